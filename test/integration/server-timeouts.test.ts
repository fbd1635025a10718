import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load-config.js";
import { KEEP_ALIVE_GRACE_MS, TIMEOUT_CHECK_INTERVAL_MS } from "../../src/http/server-timeouts.js";
import { type Harness, startHarness } from "../support/broker-harness.js";

const HEADERS_MS = 800;
const REQUEST_MS = 1_500;
const KEEP_ALIVE_MS = 1_000;
/** Node looks for overdue connections once per check interval; allow scheduling slack on top. */
const SLACK_MS = TIMEOUT_CHECK_INTERVAL_MS + 1_000;
const timeouts = {
  headers_timeout_ms: HEADERS_MS,
  request_timeout_ms: REQUEST_MS,
  keep_alive_timeout_ms: KEEP_ALIVE_MS,
};

let api: Harness;
let worker: Harness;
let workerPort: number;

beforeAll(async () => {
  api = await startHarness({ name: "timeouts-api", role: "api", config: { server: timeouts } });
  worker = await startHarness({ name: "timeouts-worker", role: "worker", config: { server: timeouts } });
  workerPort = await worker.broker.listen();
});
afterAll(async () => {
  await api?.close();
  await worker?.close();
});

/** A raw connection: what the server sent, and when (ms after connecting) it closed the socket. */
interface RawConnection {
  socket: Socket;
  received(): string;
  closedAfterMs: Promise<number>;
  /** Resolves once `text` has arrived. */
  waitFor(text: string): Promise<void>;
}

async function open(port: number): Promise<RawConnection> {
  const socket = connect(port, "127.0.0.1");
  await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  const startedAt = Date.now();
  let received = "";
  const watchers: (() => void)[] = [];
  socket.on("data", (chunk) => {
    received += chunk.toString("latin1");
    for (const watch of watchers) watch();
  });
  socket.on("error", () => {});
  const closedAfterMs = new Promise<number>((resolve) =>
    socket.once("close", () => resolve(Date.now() - startedAt)),
  );
  return {
    socket,
    received: () => received,
    closedAfterMs,
    waitFor: (text) =>
      new Promise<void>((resolve) => {
        const watch = () => received.includes(text) && resolve();
        watchers.push(watch);
        watch();
      }),
  };
}

/** Writes `text` one byte every `everyMs` until the socket closes or the text runs out. */
async function dribble(connection: RawConnection, text: string, everyMs: number): Promise<void> {
  for (const byte of text) {
    if (connection.socket.destroyed) return;
    connection.socket.write(byte);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

const SLOW_HEADERS = `GET /healthz HTTP/1.1\r\nHost: broker\r\nX-Slow: ${"a".repeat(400)}\r\n\r\n`;

async function expectSlowHeadersCut(port: number): Promise<number> {
  const connection = await open(port);
  void dribble(connection, SLOW_HEADERS, 50);
  const closedAfter = await connection.closedAfterMs;
  expect(closedAfter).toBeGreaterThanOrEqual(HEADERS_MS - 50);
  expect(closedAfter).toBeLessThan(HEADERS_MS + SLACK_MS);
  expect(connection.received()).not.toContain("200 OK");
  return closedAfter;
}

describe("slow and idle clients are cut off (server.*_timeout_ms)", () => {
  it("the api listener cuts a client that sends its headers a byte at a time after headers_timeout_ms", async () => {
    const closedAfter = await expectSlowHeadersCut(portOf(api));
    console.info(`api: slow headers cut after ${closedAfter} ms (headers_timeout_ms ${HEADERS_MS})`);
  });

  it("the api listener cuts a client that sends its body too slowly after request_timeout_ms", async () => {
    const connection = await open(portOf(api));
    connection.socket.write(
      "POST /v1/tasks HTTP/1.1\r\nHost: broker\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n",
    );
    void dribble(connection, "x".repeat(500), 50);
    const closedAfter = await connection.closedAfterMs;
    expect(closedAfter).toBeGreaterThanOrEqual(REQUEST_MS - 50);
    expect(closedAfter).toBeLessThan(REQUEST_MS + SLACK_MS);
  });

  it("an idle keep-alive connection is closed keep_alive_timeout_ms (+ Node's 1 s grace) after its last response", async () => {
    const connection = await open(portOf(api));
    connection.socket.write("GET /healthz HTTP/1.1\r\nHost: broker\r\nConnection: keep-alive\r\n\r\n");
    await connection.waitFor('{"status":"ok"}');
    const answeredAt = Date.now();
    await connection.closedAfterMs;
    const idleMs = Date.now() - answeredAt;
    expect(connection.received()).toContain("HTTP/1.1 200 OK");
    expect(connection.received()).toContain(`Keep-Alive: timeout=${KEEP_ALIVE_MS / 1000}`);
    expect(idleMs).toBeGreaterThanOrEqual(KEEP_ALIVE_MS - 50);
    expect(idleMs).toBeLessThan(KEEP_ALIVE_MS + KEEP_ALIVE_GRACE_MS + 500);
    console.info(`api: idle keep-alive closed after ${idleMs} ms (keep_alive_timeout_ms ${KEEP_ALIVE_MS})`);
  });

  it("the worker's health listener applies the same limits", async () => {
    const closedAfter = await expectSlowHeadersCut(workerPort);
    const connection = await open(workerPort);
    connection.socket.write("GET /healthz HTTP/1.1\r\nHost: broker\r\n\r\n");
    await connection.waitFor('{"status":"ok"}');
    const answeredAt = Date.now();
    await connection.closedAfterMs;
    const idleMs = Date.now() - answeredAt;
    expect(idleMs).toBeGreaterThanOrEqual(KEEP_ALIVE_MS - 50);
    expect(idleMs).toBeLessThan(KEEP_ALIVE_MS + KEEP_ALIVE_GRACE_MS + 500);
    console.info(
      `worker: slow headers cut after ${closedAfter} ms; idle keep-alive closed after ${idleMs} ms`,
    );
  });
});

describe("server timeout keys", () => {
  const minimal = {
    server: { audience: "a", public_url: "http://127.0.0.1:1" },
    redis: { url: "redis://x" },
  };

  it("default to 10 s for headers, 30 s for a whole request and 5 s for an idle keep-alive", () => {
    const { server } = parseConfig(minimal, "test");
    expect(server).toMatchObject({
      headers_timeout_ms: 10_000,
      request_timeout_ms: 30_000,
      keep_alive_timeout_ms: 5_000,
    });
  });

  it("refuse a headers timeout longer than the request timeout", () => {
    expect(() =>
      parseConfig(
        { ...minimal, server: { ...minimal.server, headers_timeout_ms: 20_000, request_timeout_ms: 10_000 } },
        "test",
      ),
    ).toThrow("server.headers_timeout_ms: must not exceed server.request_timeout_ms");
  });
});

function portOf(harness: Harness): number {
  return Number(new URL(harness.baseUrl).port);
}
