/**
 * The cursors `GET /v1/audit` hands out, and the only ones it takes back. Over the whole chain a cursor is
 * the stream id of the last event returned (`<ms>-<seq>`, both 64-bit); within one task it is an offset
 * into the task's event list (a decimal integer). Anything else is refused as 400 before Redis sees it,
 * so a bad cursor never reads as a store outage.
 */

const MAX_U64 = 2n ** 64n - 1n;
const STREAM_ID = /^(\d{1,20})-(\d{1,20})$/;
const TASK_OFFSET = /^\d{1,15}$/;

/** Whether `cursor` is a stream id Redis accepts as an exclusive start (`(<id>`). */
export function isStreamCursor(cursor: string): boolean {
  const match = STREAM_ID.exec(cursor);
  if (!match) return false;
  const ms = BigInt(match[1]!);
  const seq = BigInt(match[2]!);
  return ms <= MAX_U64 && seq <= MAX_U64 && !(ms === MAX_U64 && seq === MAX_U64);
}

/** Whether `cursor` is an offset into one task's events. */
export function isTaskCursor(cursor: string): boolean {
  return TASK_OFFSET.test(cursor);
}

/** Whether `cursor` can continue a listing over one task (`taskScoped`) or over the whole chain. */
export function isAuditCursor(cursor: string, taskScoped: boolean): boolean {
  return taskScoped ? isTaskCursor(cursor) : isStreamCursor(cursor);
}
