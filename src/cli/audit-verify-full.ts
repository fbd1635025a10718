import { z } from "zod";
import { type ApiClient, expectShape } from "./api-client.js";
import { verifyResult } from "./api-schemas.js";
import { note } from "./cli-context.js";
import { CliError } from "./cli-errors.js";

const POLL_INTERVAL_MS = 1_000;

const verificationRun = z.object({
  verification_id: z.string(),
  state: z.enum(["running", "completed"]),
  progress: z.object({
    events: z.number(),
    last_seq: z.number().nullable(),
    head_seq: z.number().nullable(),
  }),
  result: verifyResult.nullable(),
});

/**
 * `audit verify --full`: starts a full walk of the chain on the broker (`POST /v1/audit/verifications`,
 * a worker job) and polls it, reporting progress on stderr; resolves with its result.
 */
export async function verifyFull(client: ApiClient, timeoutSeconds: number) {
  const what = "POST /v1/audit/verifications";
  const started = expectShape(verificationRun, await client.post("/v1/audit/verifications", {}), what);
  const id = started.verification_id;
  note(`full verification ${id} started on the broker`);
  const until = Date.now() + timeoutSeconds * 1000;
  let last = -1;
  for (;;) {
    const run = expectShape(
      verificationRun,
      await client.get(`/v1/audit/verifications/${encodeURIComponent(id)}`),
      "GET /v1/audit/verifications/{id}",
    );
    if (run.state === "completed" && run.result) return run.result;
    if (run.progress.events !== last) {
      const head = run.progress.head_seq === null ? "" : ` of about ${run.progress.head_seq}`;
      note(`${id}: ${run.progress.events} events checked${head}`);
      last = run.progress.events;
    }
    if (Date.now() > until)
      throw new CliError(
        `full verification ${id} still running after ${timeoutSeconds} s (it continues on the broker)`,
      );
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
}
