import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { createRemoteJWKSet, decodeJwt, jwtVerify } from "jose";
import { BENCH_AUDIENCE, BENCH_RS, type BenchBroker } from "../broker.js";
import { closeTask, issueCredential, openTask } from "../client.js";
import { figure } from "../report.js";
import { since, sleep, summarize } from "../stats.js";
import { progress, type ScenarioResult } from "./types.js";

const SCENARIO = "6 close->SET pushed";
const AGENT = "bench-signals";
const CREDENTIALS_PER_TASK = 10;
const TIMEOUT_MS = 10_000;
const SESSION_REVOKED = "https://schemas.openid.net/secevent/caep/event-type/session-revoked";

/** A push receiver (RFC 8935) on loopback: notes each SET's arrival by its `txn` (the task), answers 202. */
async function startReceiver() {
  const arrivals = new Map<string, number[]>();
  const bodies: string[] = [];
  const read = async (req: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  };
  const server = createServer((req, res) => {
    void read(req).then((body) => {
      const at = performance.now();
      res.writeHead(202).end();
      const txn = String(decodeJwt(body).txn ?? "");
      arrivals.set(txn, [...(arrivals.get(txn) ?? []), at]);
      bodies.push(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`;
  return {
    url,
    arrivals,
    bodies,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function rsCall(broker: BenchBroker, method: string, route: string, body?: unknown) {
  const basic = Buffer.from(`${BENCH_RS.clientId}:${BENCH_RS.secret}`).toString("base64");
  const res = await fetch(`${broker.baseUrl}${route}`, {
    method,
    headers: { authorization: `Basic ${basic}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${route} answered ${res.status}: ${text}`);
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

/**
 * N tasks in sequence with a push stream subscribed: open, issue 10 signer credentials, close, time until
 * the receiver has the task's session-revoked SET (first) and all 11 SETs (task + 10 tokens). Every SET is
 * verified against the broker's JWKS afterwards, off the clock.
 */
export async function runSignals(broker: BenchBroker, options: { tasks: number }): Promise<ScenarioResult> {
  const receiver = await startReceiver();
  const stream = await rsCall(broker, "POST", "/v1/ssf/streams", {
    delivery: { method: "urn:ietf:rfc:8935", endpoint_url: receiver.url },
    events_requested: [SESSION_REVOKED],
  });
  const first: number[] = [];
  const all: number[] = [];
  try {
    for (let i = 0; i < options.tasks; i++) {
      const taskId = await openTask(broker, AGENT, 600);
      await Promise.all(
        Array.from({ length: CREDENTIALS_PER_TASK }, () => issueCredential(broker, AGENT, taskId)),
      );
      const start = performance.now();
      await closeTask(broker, AGENT, taskId);
      for (;;) {
        const got = receiver.arrivals.get(taskId) ?? [];
        if (got.length >= CREDENTIALS_PER_TASK + 1) {
          first.push(Math.min(...got) - start);
          all.push(Math.max(...got) - start);
          break;
        }
        if (since(start) > TIMEOUT_MS) throw new Error(`only ${got.length} SETs for ${taskId} in time`);
        await sleep(1);
      }
    }
    const jwks = createRemoteJWKSet(new URL(`${broker.baseUrl}/.well-known/jwks.json`));
    let invalid = 0;
    for (const body of receiver.bodies) {
      await jwtVerify(body, jwks, { audience: BENCH_AUDIENCE, typ: "secevent+jwt" }).catch(() => {
        invalid += 1;
      });
    }
    if (invalid > 0) throw new Error(`${invalid} SETs did not verify against the broker's JWKS`);
  } finally {
    await rsCall(broker, "DELETE", `/v1/ssf/streams?stream_id=${String(stream.stream_id)}`).catch(() => ({}));
    await receiver.close();
  }
  const firstSummary = summarize(first);
  const allSummary = summarize(all);
  progress(
    `signals: ${all.length} tasks, all 11 SETs p50 ${allSummary.p50.toFixed(1)} ms p99 ${allSummary.p99.toFixed(1)} ms`,
  );
  const note = `${options.tasks} tasks x ${CREDENTIALS_PER_TASK} signer credentials, one push stream, sequential; arrival time at the receiver`;
  return {
    figures: [
      figure(
        SCENARIO,
        "signals.first_p50_ms",
        "close -> first SET, p50",
        firstSummary.p50,
        "ms",
        undefined,
        note,
      ),
      figure(SCENARIO, "signals.first_p99_ms", "close -> first SET, p99", firstSummary.p99, "ms"),
      figure(SCENARIO, "signals.all_p50_ms", "close -> all 11 SETs, p50", allSummary.p50, "ms"),
      figure(SCENARIO, "signals.all_p99_ms", "close -> all 11 SETs, p99", allSummary.p99, "ms", {
        op: "<=",
        value: 100,
      }),
    ],
    details: {
      tasks: options.tasks,
      credentials_per_task: CREDENTIALS_PER_TASK,
      first_set_ms: firstSummary,
      all_sets_ms: allSummary,
      sets_verified: receiver.bodies.length,
    },
  };
}
