import type { Command } from "commander";
import { loadConfigFile } from "../config/load-config.js";
import { CliError, EXIT } from "./cli-errors.js";
import {
  checkIssuer,
  checkPolicies,
  checkProviders,
  checkRedis,
  checkSecrets,
  type Finding,
} from "./doctor-checks.js";

/** Every check a starting broker would make, without starting one; exit 3 when any finds a problem. */
async function doctor(options: { config: string; json?: boolean }): Promise<void> {
  const { config, configDir } = loadConfigFile(options.config);
  const findings: Finding[] = [
    { check: "config", ok: true, detail: `${options.config} is valid` },
    checkPolicies(config, configDir),
    ...checkSecrets(config, configDir, process.env),
    ...(await Promise.all(config.issuers.map((issuer) => checkIssuer(issuer, configDir)))),
    await checkRedis(config, process.env),
    ...checkProviders(config, configDir, process.env),
  ];
  if (options.json) process.stdout.write(`${JSON.stringify(findings, null, 2)}\n`);
  else
    for (const f of findings)
      process.stdout.write(`${f.ok ? "ok     " : "PROBLEM"}  ${f.check}: ${f.detail}\n`);
  const problems = findings.filter((f) => !f.ok).length;
  if (problems > 0) throw new CliError(`${problems} problem(s) found`, EXIT.problemFound);
}

/** `credbroker doctor --config F`. */
export function registerDoctorCommand(program: Command): void {
  program
    .command("doctor")
    .description(
      "check a config without starting: policies, keys, issuers (discovery + JWKS), Redis, providers",
    )
    .option("-c, --config <file>", "config file", process.env.CREDBROKER_CONFIG ?? "./credbroker.yaml")
    .option("--json", "print the findings as JSON")
    .action(doctor);
}
