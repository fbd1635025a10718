import type { Redis } from "ioredis";
import type { BenchBroker } from "../broker.js";
import { figure } from "../report.js";
import type { ScenarioResult } from "./types.js";

const SCENARIO = "5 memory";
const CHUNK = 500;

/** Broker state kinds, told apart by key shape under the prefix. */
const CATEGORIES = [
  ["credential records", /^cred:/],
  ["credential indexes", /^creds:/],
  ["task records", /^task:\{[^}]+\}$/],
  ["task lists", /^task:\{[^}]+\}:/],
  ["task indexes", /^tasks:/],
  ["audit events", /^\{audit\}:/],
  ["queue (BullMQ)", /^\{bull\}:/],
  ["signer deny-list", /^signer:deny:/],
  ["signer keys", /^(\{signer\}|signer):/],
  ["rate limit", /^rl:/],
  ["revocations", /^rev:/],
] as const;

/** What counts as "records + indexes" (the per-credential target). */
const RECORDS_AND_INDEXES = new Set([
  "credential records",
  "credential indexes",
  "task records",
  "task lists",
  "task indexes",
]);

export type MemoryBreakdown = Record<string, { keys: number; bytes: number }>;

async function scanKeys(redis: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = "0";
  do {
    const [next, batch] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== "0");
  return keys;
}

/** `MEMORY USAGE <key> SAMPLES 0` (exact, every nested element) summed per category. */
export async function measureMemory(broker: BenchBroker): Promise<MemoryBreakdown> {
  const keys = await scanKeys(broker.redis, broker.prefix);
  const breakdown: MemoryBreakdown = {};
  for (let i = 0; i < keys.length; i += CHUNK) {
    const chunk = keys.slice(i, i + CHUNK);
    const pipeline = broker.redis.pipeline();
    for (const key of chunk) pipeline.call("MEMORY", "USAGE", key, "SAMPLES", "0");
    const replies = (await pipeline.exec()) ?? [];
    chunk.forEach((key, j) => {
      const local = key.slice(broker.prefix.length + 1);
      const category = CATEGORIES.find(([, pattern]) => pattern.test(local))?.[0] ?? "other";
      const entry = breakdown[category] ?? { keys: 0, bytes: 0 };
      breakdown[category] = entry;
      entry.keys += 1;
      entry.bytes += Number(replies[j]?.[1] ?? 0);
    });
  }
  return breakdown;
}

const sum = (breakdown: MemoryBreakdown, pick: (category: string) => boolean): number =>
  Object.entries(breakdown)
    .filter(([category]) => pick(category))
    .reduce((total, [, entry]) => total + entry.bytes, 0);

/** Encoding and size of one record, with its longest field (what decides listpack vs hashtable). */
export interface RecordSample {
  key: string;
  encoding: string;
  bytes: number;
  longest_field: string;
  longest_value_bytes: number;
  hash_max_listpack_value: number;
}

export async function sampleRecord(redis: Redis, key: string): Promise<RecordSample> {
  const fields = await redis.hgetall(key);
  const [name, value] = Object.entries(fields).sort((a, b) => b[1].length - a[1].length)[0] ?? ["", ""];
  const config = (await redis.call("CONFIG", "GET", "hash-max-listpack-value")) as string[];
  return {
    key,
    encoding: String(await redis.object("ENCODING", key)),
    bytes: Number(await redis.call("MEMORY", "USAGE", key, "SAMPLES", "0")),
    longest_field: name,
    longest_value_bytes: Buffer.byteLength(value),
    hash_max_listpack_value: Number(config[1]),
  };
}

/** Per-credential figures for a population of `credentials` credentials in `tasks` tasks. */
export function memoryFigures(
  breakdown: MemoryBreakdown,
  population: { credentials: number; tasks: number },
  options: { withTarget: boolean; idSuffix?: string; sample?: RecordSample },
): ScenarioResult {
  const { credentials, tasks } = population;
  const { withTarget, sample } = options;
  const perCredential = (bytes: number) => bytes / credentials;
  const records = sum(breakdown, (c) => RECORDS_AND_INDEXES.has(c));
  const audit = sum(breakdown, (c) => c === "audit events");
  const queue = sum(breakdown, (c) => c === "queue (BullMQ)");
  const hashes = sum(breakdown, (c) => c === "credential records");
  const indexes = sum(breakdown, (c) => c === "credential indexes");
  const label = `${credentials} creds in ${tasks} tasks`;
  const sampleNote = sample
    ? `; a credential hash is ${sample.encoding}-encoded (${sample.bytes} B): its longest field ` +
      `"${sample.longest_field}" is ${sample.longest_value_bytes} B vs hash-max-listpack-value ${sample.hash_max_listpack_value}`
    : "";
  const note =
    `${label}: records+indexes = credential hashes + credential indexes + task hashes/lists/indexes ` +
    `(tasks amortised over ${credentials / tasks} credentials each); BullMQ deadline jobs and audit reported apart` +
    sampleNote;
  const id = (name: string) => `memory${options.idSuffix ?? ""}.${name}`;
  const info = (name: string, text: string, bytes: number) =>
    figure(SCENARIO, id(name), text, perCredential(bytes), "B");
  return {
    figures: [
      figure(
        SCENARIO,
        id("records_indexes_bytes_per_cred"),
        `records+indexes B/credential (${label})`,
        perCredential(records),
        "B",
        withTarget ? { op: "<=", value: 1024 } : undefined,
        withTarget ? note : undefined,
      ),
      info("credential_hash_bytes_per_cred", "  of which credential hashes", hashes),
      info("credential_index_bytes_per_cred", "  of which credential indexes", indexes),
      info("audit_bytes_per_cred", `audit events B/credential (${label})`, audit),
      info("queue_bytes_per_cred", `BullMQ B/credential (${label})`, queue),
    ],
    details: {
      population,
      breakdown,
      credential_record_sample: sample ?? null,
      per_credential: {
        records_and_indexes: perCredential(records),
        credential_hashes: perCredential(hashes),
        credential_indexes: perCredential(indexes),
        audit: perCredential(audit),
        queue: perCredential(queue),
      },
    },
  };
}
