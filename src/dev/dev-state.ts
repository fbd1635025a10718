import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { JWK } from "jose";
import { z } from "zod";

/** What dev mode keeps between runs in `.credbroker-dev/` (git-ignored): never used outside dev mode. */
export interface DevState {
  dir: string;
  /** base64 key-encryption key for the signer's keys in Redis. */
  kek: string;
  /** base64 key for audit handle hashes. */
  auditKey: string;
  /** Redis key prefix of this checkout's dev broker: two checkouts sharing a local Redis never collide. */
  keyPrefix: string;
  /** The issuer of the dev broker started last (what `credbroker token` uses without `--port`). */
  issuerKeys: JWK[];
  issuerUrl: string;
  audience: string;
  /**
   * Every dev broker's issuer keys, by issuer URL (one per port): a second `credbroker dev` on another port
   * keeps the first one's keys, and a restart reuses its own, so tokens survive both.
   */
  issuers: Record<string, JWK[]>;
}

const stateFile = z.object({
  kek: z.string(),
  auditKey: z.string(),
  keyPrefix: z.string().default(""),
  issuerKeys: z.array(z.record(z.string(), z.unknown())),
  issuerUrl: z.string(),
  audience: z.string(),
  issuers: z.record(z.string(), z.array(z.record(z.string(), z.unknown()))).default({}),
});

export const devDir = (cwd: string): string => path.join(cwd, ".credbroker-dev");

export function readDevState(cwd: string): DevState | null {
  const file = path.join(devDir(cwd), "state.json");
  if (!existsSync(file)) return null;
  const raw = stateFile.parse(JSON.parse(readFileSync(file, "utf8")));
  const issuers: Record<string, JWK[]> = { [raw.issuerUrl]: raw.issuerKeys as JWK[] };
  for (const [url, keys] of Object.entries(raw.issuers)) issuers[url] = keys as JWK[];
  return { dir: devDir(cwd), ...raw, issuerKeys: raw.issuerKeys as JWK[], issuers };
}

export function writeDevState(state: DevState): void {
  mkdirSync(state.dir, { recursive: true, mode: 0o700 });
  const { dir, ...rest } = state;
  writeFileSync(path.join(dir, "state.json"), JSON.stringify(rest, null, 2), { mode: 0o600 });
}

export function newDevSecrets(): { kek: string; auditKey: string; keyPrefix: string } {
  return {
    kek: randomBytes(32).toString("base64"),
    auditKey: randomBytes(32).toString("base64"),
    keyPrefix: newDevPrefix(),
  };
}

export const newDevPrefix = (): string => `cbdev-${randomBytes(4).toString("hex")}`;
