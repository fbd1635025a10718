import { afterEach, describe, expect, it } from "vitest";
import { PermanentProviderError, TransientProviderError } from "../../../providers/provider-errors.js";
import {
  classifyIssueFailure,
  classifyVaultError,
  VaultApiError,
  VaultResponseTooLargeError,
} from "../../../providers/vault/vault-errors.js";
import { createVaultTransport, MAX_VAULT_RESPONSE_BYTES } from "../../../providers/vault/vault-transport.js";
import { type OversizedBodyServer, startOversizedBodyServer } from "../../sims/oversized-body-server.js";
import { startBrokerVaultSim } from "../../sims/vault/vault-sim-fixtures.js";

const MB = 1024 * 1024;
const HUGE = 50 * MB;

let server: OversizedBodyServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (err: unknown) => err,
  );
}

describe("Vault responses are read at most 1 MiB", () => {
  it("a 50 MB answer to a secret read is aborted past the cap, without buffering it", async () => {
    server = await startOversizedBodyServer({ totalBytes: HUGE, prefix: '{"data":"' });
    const transport = createVaultTransport({ address: server.url, timeoutMs: 5_000 });
    const before = process.memoryUsage();
    const startedAt = Date.now();
    const err = await failureOf(transport.send({ method: "GET", path: "database/creds/ro", token: "t" }));
    const elapsedMs = Date.now() - startedAt;
    const after = process.memoryUsage();
    const answer = await server.nextAnswer();
    transport.close();

    expect(err).toBeInstanceOf(VaultResponseTooLargeError);
    expect((err as Error).message).toBe(
      `unexpected Vault response on database/creds/ro: the body is larger than ${MAX_VAULT_RESPONSE_BYTES} bytes (read aborted)`,
    );
    expect(answer.closedEarly).toBe(true);
    expect(answer.bytesSent).toBeLessThan(HUGE / 4);
    expect(elapsedMs).toBeLessThan(2_000);
    expect(after.rss - before.rss).toBeLessThan(64 * MB);
    expect(after.arrayBuffers - before.arrayBuffers).toBeLessThan(64 * MB);
    console.info(
      `50 MB Vault answer: refused in ${elapsedMs} ms; server sent ${(answer.bytesSent / MB).toFixed(2)} MB; ` +
        `rss +${((after.rss - before.rss) / MB).toFixed(1)} MB`,
    );
  });

  it("an oversized success is permanent, and for issuance 'may have created' (revoked defensively)", () => {
    const err = new VaultResponseTooLargeError("database/creds/ro", MAX_VAULT_RESPONSE_BYTES);
    expect(classifyVaultError(err, "issuing")).toBeInstanceOf(PermanentProviderError);
    expect(classifyIssueFailure(err, "issuing")).toBeInstanceOf(TransientProviderError);
  });

  it("an oversized error answer keeps its status (so a 503 is still transient), body unread", async () => {
    server = await startOversizedBodyServer({ totalBytes: HUGE, status: 503, declareLength: true });
    const transport = createVaultTransport({ address: server.url, timeoutMs: 5_000 });
    const err = await failureOf(transport.send({ method: "GET", path: "sys/leases/lookup", token: "t" }));
    const answer = await server.nextAnswer();
    transport.close();

    expect(err).toBeInstanceOf(VaultApiError);
    expect((err as VaultApiError).status).toBe(503);
    expect(classifyVaultError(err, "revoking")).toBeInstanceOf(TransientProviderError);
    expect(answer.closedEarly).toBe(true);
  });

  it("normal answers from the Vault simulator still read in full", async () => {
    const vault = await startBrokerVaultSim();
    const transport = createVaultTransport({ address: vault.sim.address, timeoutMs: 5_000 });
    try {
      const body = await transport.send({
        method: "GET",
        path: "auth/token/lookup-self",
        token: vault.brokerToken,
      });
      expect(body).toMatchObject({ data: { policies: expect.any(Array) } });
    } finally {
      transport.close();
      await vault.sim.close();
    }
  });
});
