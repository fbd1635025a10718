/** One page of a listing, as the admin and approvals routes answer. */
export interface Page<Item> {
  items: Item[];
  next_cursor: string | null;
}

/** What a listing command shows: up to `limit` items, and how to continue. */
export interface Collected<Item> {
  items: Item[];
  /** Where to resume with `--cursor`; null when the listing ended or the last page was cut short. */
  next_cursor: string | null;
  /** More items may match than were shown (the last page was cut, or a cursor remains). */
  more: boolean;
}

/**
 * Follows cursors until `limit` items are collected or the listing ends. The admin listings filter
 * within each page, so one page can hold fewer matches than asked for while more exist further on.
 */
export async function collectPages<Item>(
  fetchPage: (cursor: string | undefined, pageSize: number) => Promise<Page<Item>>,
  limit: number,
  startCursor?: string,
): Promise<Collected<Item>> {
  const pageSize = Math.min(1000, Math.max(limit, 100));
  const items: Item[] = [];
  let cursor = startCursor;
  for (;;) {
    const page = await fetchPage(cursor, pageSize);
    items.push(...page.items);
    if (items.length > limit) return { items: items.slice(0, limit), next_cursor: null, more: true };
    if (items.length === limit || page.next_cursor === null)
      return { items, next_cursor: page.next_cursor, more: page.next_cursor !== null };
    cursor = page.next_cursor;
  }
}

/** The footer a table prints when more items exist. */
export function moreHint(collected: Collected<unknown>): string | null {
  if (!collected.more) return null;
  return collected.next_cursor
    ? `more results may exist: rerun with --cursor ${collected.next_cursor} (or a larger --limit)`
    : "more results may exist: rerun with a larger --limit";
}
