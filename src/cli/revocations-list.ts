import type { Command } from "commander";
import { z } from "zod";
import { expectShape } from "./api-client.js";
import { revocationStatus } from "./api-schemas.js";
import { connect, limitOption, parseOptions } from "./cli-context.js";
import { printListing } from "./listing.js";
import { collectPages } from "./paging.js";
import { type Column, shortTime } from "./table.js";

const recorded = revocationStatus.extend({
  reason: z.string(),
  actor: z.string(),
  created_at: z.string(),
});
type Recorded = z.infer<typeof recorded>;
const revocationList = z.object({ revocations: z.array(recorded), next_cursor: z.string().nullable() });

const lsOptions = z.object({ limit: limitOption, cursor: z.string().optional() });

const selectorText = (selector: Recorded["selector"]): string =>
  selector
    ? Object.entries(selector)
        .map(([key, value]) => (value === true ? key : `${key}=${value}`))
        .join(" ")
    : "?";

const columns: Column<Recorded>[] = [
  { header: "revocation", cell: (r) => r.revocation_id },
  { header: "created", cell: (r) => shortTime(r.created_at) },
  { header: "actor", cell: (r) => r.actor },
  { header: "selector", cell: (r) => selectorText(r.selector) },
  { header: "tasks", cell: (r) => String(r.tasks) },
  { header: "credentials", cell: (r) => String(r.credentials) },
  { header: "dry run", cell: (r) => (r.dry_run ? "yes" : "") },
  { header: "reason", cell: (r) => r.reason, maxWidth: 60 },
];

/** `credbroker revocations ls`: emergency revocations, newest first, with reason, actor and time. */
export async function listRevocations(command: Command): Promise<void> {
  const options = parseOptions(lsOptions, command);
  const { client, json } = connect(command);
  const collected = await collectPages(
    async (cursor, pageSize) => {
      const page = expectShape(
        revocationList,
        await client.get("/v1/admin/revocations", { limit: pageSize, cursor }),
        "GET /v1/admin/revocations",
      );
      return { items: page.revocations, next_cursor: page.next_cursor };
    },
    options.limit,
    options.cursor,
  );
  printListing({ json, key: "revocations", columns, empty: "no revocations" }, collected);
}
