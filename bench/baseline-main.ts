/**
 * The baseline in a process of its own (as the broker's api role is), so the comparison is fair:
 * `node --import tsx bench/baseline-main.ts <port> <issuer> <audience> <agent>`. Stops on SIGTERM/SIGINT.
 */
import { startBaseline } from "./baseline.js";

const [port, issuer, audience, agent] = process.argv.slice(2);
if (!port || !issuer || !audience || !agent) {
  process.stderr.write("usage: baseline-main.ts <port> <issuer> <audience> <agent>\n");
  process.exit(2);
}
const baseline = await startBaseline({ issuer, audience, agent, port: Number(port) });
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    void baseline.close().finally(() => process.exit(0));
  });
}
