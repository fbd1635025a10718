import { type BenchBroker, REDIS_URL } from "../broker.js";
import { type LoadResult, runLoad } from "../load.js";
import { diffProbe, measureIdle, type ProbeTargets, probe, type WindowDelta } from "../probes.js";
import { type ProxyCounts, startRedisProxy } from "../redis-proxy.js";
import { type Figure, figure } from "../report.js";
import { CONNECTIONS, type IssuanceLoad, per, prepareIssuance } from "./issuance-load.js";
import { progress, type ScenarioResult } from "./types.js";

const SCENARIO = "1 issuance";
const SERIAL_SECONDS = 4;
const CONCURRENT_SECONDS = 4;
const IDLE_SECONDS = 2;

/** The proxy's counts of a window minus what the idle rate accounts for. */
function net(window: WindowDelta, idle: WindowDelta): ProxyCounts {
  const w = window.proxy;
  const i = idle.proxy;
  if (!w || !i) throw new Error("no proxy counts");
  const scale = idle.seconds > 0 ? window.seconds / idle.seconds : 0;
  const minus = (a: number, b: number) => Math.max(0, a - b * scale);
  return {
    commands: minus(w.commands, i.commands),
    writes: minus(w.writes, i.writes),
    responses: minus(w.responses, i.responses),
    roundTrips: minus(w.roundTrips, i.roundTrips),
    clientBytes: minus(w.clientBytes, i.clientBytes),
    serverBytes: minus(w.serverBytes, i.serverBytes),
    connections: w.connections,
  };
}

async function window(
  url: string,
  load: IssuanceLoad,
  targets: ProbeTargets,
  connections: number,
  seconds: number,
): Promise<{ result: LoadResult; delta: WindowDelta }> {
  let before: Awaited<ReturnType<typeof probe>> | undefined;
  const result = await runLoad({
    title: `proxied-${connections}`,
    url,
    requests: load.requests,
    connections,
    warmupSeconds: 1,
    durationSeconds: seconds,
    beforeMeasure: async () => {
      before = await probe(targets);
    },
  });
  const after = await probe(targets);
  if (!before) throw new Error("no snapshot before the measured window");
  return { result, delta: diffProbe(before, after) };
}

/**
 * Round trips per issuance: an extra api process whose Redis connections all go through a counting TCP
 * proxy (bench/redis-proxy.ts); its throughput is not reported (the proxy adds a hop), only the counts.
 */
export async function runRoundTrips(broker: BenchBroker): Promise<ScenarioResult> {
  const load = await prepareIssuance(broker);
  const upstream = new URL(REDIS_URL);
  const proxy = await startRedisProxy({ host: upstream.hostname, port: Number(upstream.port || 6379) });
  try {
    const api = await broker.startApi("api-proxied", { redisUrl: `${proxy.url}${upstream.pathname}` });
    try {
      const targets: ProbeTargets = { redis: broker.redis, pids: { api: api.pid }, proxy };
      const idle = await measureIdle(targets, IDLE_SECONDS);
      progress(`round trips: api-proxied (pid ${api.pid}), 1 connection ${SERIAL_SECONDS} s`);
      const serial = await window(api.url, load, targets, 1, SERIAL_SECONDS);
      progress(`round trips: ${CONNECTIONS} connections ${CONCURRENT_SECONDS} s`);
      const concurrent = await window(api.url, load, targets, CONNECTIONS, CONCURRENT_SECONDS);
      return summarise(serial, concurrent, idle);
    } finally {
      await broker.stopApi(api);
    }
  } finally {
    await proxy.close();
  }
}

type Window = { result: LoadResult; delta: WindowDelta };

function summarise(serial: Window, concurrent: Window, idle: WindowDelta): ScenarioResult {
  const one = net(serial.delta, idle);
  const many = net(concurrent.delta, idle);
  const n1 = serial.result.ok;
  const n32 = concurrent.result.ok;
  const note =
    "api process -> counting TCP proxy -> Redis. A round trip = a client->Redis chunk sent after Redis last " +
    "answered on that connection (a wait on Redis); measured with one request in flight, so it is the " +
    "number of sequential Redis waits per issuance. Writes = client->Redis data chunks (>= 1 socket write " +
    "each; back-to-back writes can merge in one chunk), responses = Redis->client chunks. Idle traffic of " +
    `the ${idle.seconds.toFixed(1)} s before subtracted; ${serial.delta.proxy?.connections ?? 0} new connections in the window`;
  const figures: Figure[] = [
    figure(
      SCENARIO,
      "issuance.round_trips",
      "Redis round trips per issuance (1 conn)",
      per(one.roundTrips, n1),
      "",
      undefined,
      note,
    ),
    figure(
      SCENARIO,
      "issuance.api_commands",
      "Redis commands sent by the api per issuance",
      per(one.commands, n1),
      "",
      undefined,
      "parsed from the api process's RESP stream at the proxy (1 connection); a script call (EVALSHA) counts " +
        "once, the commands it runs inside Redis do not (commandstats counts those)",
    ),
    figure(
      SCENARIO,
      "issuance.redis_writes",
      "Redis socket writes per issuance (1 conn)",
      per(one.writes, n1),
      "",
    ),
    figure(
      SCENARIO,
      "issuance.redis_responses",
      "Redis response chunks per issuance (1 conn)",
      per(one.responses, n1),
      "",
    ),
    figure(
      SCENARIO,
      "issuance.redis_writes_32",
      `Redis socket writes per issuance (${CONNECTIONS} conns)`,
      per(many.writes, n32),
      "",
    ),
    figure(
      SCENARIO,
      "issuance.redis_bytes_32",
      `Redis bytes out+in per issuance (${CONNECTIONS} conns)`,
      per(many.clientBytes + many.serverBytes, n32),
      "B",
    ),
  ];
  return {
    figures,
    details: {
      idle: idle.proxy,
      one_connection: { issued: n1, counts: one, raw: serial.delta.proxy },
      concurrent: { connections: CONNECTIONS, issued: n32, counts: many, raw: concurrent.delta.proxy },
    },
  };
}
