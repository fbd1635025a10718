#!/usr/bin/env node
// Records, in package-lock.json, the other platforms' optional binary packages of @biomejs/biome and
// msgpackr-extract. The registry this project installs from does not serve them, so `npm install` leaves
// them out, and npm 11's `npm ci` then refuses the lockfile as out of sync. Each entry carries its
// os/cpu/libc, so npm skips it on every other platform and never fetches it here.
// Run after any `npm install` that rewrites the lockfile: `node scripts/complete-lockfile.mjs`.
import { readFileSync, writeFileSync } from "node:fs";

const lockPath = new URL("../package-lock.json", import.meta.url);
const lock = JSON.parse(readFileSync(lockPath, "utf8"));
const packages = lock.packages;

/** name suffix → platform constraints. */
const PLATFORMS = {
  "android-arm64": { os: ["android"], cpu: ["arm64"] },
  "android-x64": { os: ["android"], cpu: ["x64"] },
  "darwin-arm64": { os: ["darwin"], cpu: ["arm64"] },
  "darwin-x64": { os: ["darwin"], cpu: ["x64"] },
  "linux-arm": { os: ["linux"], cpu: ["arm"] },
  "linux-arm64": { os: ["linux"], cpu: ["arm64"] },
  "linux-arm64-musl": { os: ["linux"], cpu: ["arm64"], libc: ["musl"] },
  "linux-x64": { os: ["linux"], cpu: ["x64"], libc: ["glibc"] },
  "linux-x64-musl": { os: ["linux"], cpu: ["x64"], libc: ["musl"] },
  "win32-arm64": { os: ["win32"], cpu: ["arm64"] },
  "win32-x64": { os: ["win32"], cpu: ["x64"] },
};

let added = 0;
for (const [parentPath, parent] of Object.entries(packages)) {
  for (const [name, version] of Object.entries(parent.optionalDependencies ?? {})) {
    const key = `node_modules/${name}`;
    if (packages[key]) continue;
    const suffix = Object.keys(PLATFORMS)
      .filter((s) => name.endsWith(`-${s}`))
      .sort((a, b) => b.length - a.length)[0];
    if (!suffix) {
      console.warn(`skipped ${name} (optional dependency of ${parentPath}): unknown platform`);
      continue;
    }
    packages[key] = { version, ...(parent.dev ? { dev: true } : {}), optional: true, ...PLATFORMS[suffix] };
    added++;
  }
}
const sorted = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a < b ? -1 : 1)));
lock.packages = sorted;
writeFileSync(lockPath, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`recorded ${added} optional platform package(s)`);
