import { readFileSync } from "node:fs";
import { Command, Option } from "commander";
import { createRemoteJWKSet, jwtVerify } from "jose";
import type { BrokerRole } from "./app.js";
import { CliError } from "./cli/cli-errors.js";
import { registerOperatorCommands } from "./cli/operator-commands.js";
import { ConfigError } from "./config/load-config.js";
import { readDevState } from "./dev/dev-state.js";
import { createOidcIssuer } from "./dev/oidc-issuer.js";

/** The version in package.json (the repository's, or the installed package's). */
function packageVersion(): string {
  // src/main.ts in a checkout, dist/src/main.js in the image.
  for (const relative of ["../package.json", "../../package.json"]) {
    try {
      const manifest = JSON.parse(readFileSync(new URL(relative, import.meta.url), "utf8")) as {
        version?: unknown;
      };
      if (typeof manifest.version === "string") return manifest.version;
    } catch {
      // not at this level
    }
  }
  return "unknown";
}

/** The dev issuer's audience (kept here so `--help` does not load dev mode). */
const DEV_AUDIENCE = "credbroker";

/** Stops on SIGINT/SIGTERM: HTTP drains first, then workers, then Redis. A second signal forces exit. */
function onShutdown(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    process.stderr.write(`\n${signal}: shutting down\n`);
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`shutdown failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
}

const ROLES: readonly BrokerRole[] = ["all", "api", "worker"];

async function serve(options: { config: string; role: string }): Promise<void> {
  const role = ROLES.find((r) => r === options.role);
  if (!role)
    throw new Error(
      `unknown role "${options.role}" (from --role or CREDBROKER_ROLE): use all, api or worker`,
    );
  const { createLogger } = await import("./shared/logger.js");
  const logger = createLogger();
  // The broker is loaded only for `serve` and `dev`, so operator commands start fast.
  const [{ createBroker }, { loadConfigFile }, { installSighupReload }] = await Promise.all([
    import("./app.js"),
    import("./config/load-config.js"),
    import("./policy/sighup.js"),
  ]);
  const { config, configDir } = loadConfigFile(options.config);
  const broker = await createBroker({ config, configDir, role, logger });
  const uninstall = installSighupReload(broker.policy, logger);
  const port = await broker.listen().catch((err: unknown) => {
    if ((err as NodeJS.ErrnoException).code !== "EADDRINUSE") throw err;
    const which =
      role === "worker"
        ? `server.worker_port ${config.server.worker_port} (or CREDBROKER_WORKER_PORT)`
        : `server.port ${config.server.port} (or CREDBROKER_PORT)`;
    throw new Error(`${config.server.host}: the port is in use; change ${which}, or stop what holds it`);
  });
  if (role !== "worker") logger.info({ port, role }, "credbroker listening");
  else logger.info({ role, health_port: port }, "credbroker worker started");
  onShutdown(async () => {
    uninstall();
    await broker.close();
  });
}

async function dev(options: { port: string }): Promise<void> {
  const { startDevMode } = await import("./dev/dev-mode.js");
  const { stop } = await startDevMode({ port: Number(options.port), cwd: process.cwd() });
  onShutdown(stop);
}

async function token(options: { sub: string; ttl: string; aud?: string; port?: string }): Promise<void> {
  const state = readDevState(process.cwd());
  if (!state) throw new Error("no dev state here: start the broker with `npm start` in this directory first");
  const issuerUrl = options.port ? `http://127.0.0.1:${options.port}/dev/oidc` : state.issuerUrl;
  const keys = state.issuers[issuerUrl];
  if (!keys) throw new Error(`no dev broker has run on port ${options.port} in this directory`);
  const issuer = await createOidcIssuer({ issuerUrl, keys });
  const jwt = await issuer.mint(
    { sub: options.sub, aud: options.aud ?? state.audience },
    { expiresInSeconds: Number(options.ttl) },
  );
  process.stdout.write(`${jwt}\n`);
}

/** The token to verify: `--token`, else `--token-file` (`-` for stdin), so it need not sit in shell history. */
async function tokenToVerify(options: { token?: string; tokenFile?: string }): Promise<string> {
  if (options.token) return options.token;
  if (!options.tokenFile)
    throw new Error("give the token with --token-file <file> (or - for stdin), or --token");
  const raw = options.tokenFile === "-" ? await readStdin() : readFileSync(options.tokenFile, "utf8");
  const token = raw.trim();
  if (!token) throw new Error(`no token in ${options.tokenFile === "-" ? "stdin" : options.tokenFile}`);
  return token;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString("utf8");
}

async function verify(options: {
  jwks: string;
  token?: string;
  tokenFile?: string;
  audience?: string;
}): Promise<void> {
  const { payload, protectedHeader } = await jwtVerify(
    await tokenToVerify(options),
    createRemoteJWKSet(new URL(options.jwks)),
    {
      typ: "at+jwt",
      audience: options.audience,
    },
  );
  process.stdout.write(
    `${JSON.stringify({ valid: true, header: protectedHeader, claims: payload }, null, 2)}\n`,
  );
}

const program = new Command("credbroker")
  .description("Ephemeral, task-scoped credentials for AI agents")
  .version(packageVersion(), "-V, --version", "print the version");
program
  .command("serve")
  .description("run the broker from a config file")
  .option("-c, --config <file>", "config file", process.env.CREDBROKER_CONFIG ?? "./credbroker.yaml")
  .addOption(
    new Option("-r, --role <role>", "which parts to run")
      .choices(["all", "api", "worker"])
      .default(process.env.CREDBROKER_ROLE ?? "all"),
  )
  .action(serve);
program
  .command("dev")
  .description("dev mode: api + worker, a local OIDC issuer, the signer and a demo profile (npm start)")
  .option("-p, --port <port>", "HTTP port", process.env.CREDBROKER_PORT ?? "8080")
  .action(dev);
program
  .command("token")
  .description(`mint a dev workload token (dev mode only; aud "${DEV_AUDIENCE}")`)
  .requiredOption("--sub <name>", "subject; the principal becomes dev:<name>")
  .option("--ttl <seconds>", "lifetime", "3600")
  .option("--aud <audience>", "audience (default: the broker's)")
  .option("--port <port>", "the dev broker on this port (default: the one started last here)")
  .action(token);
program
  .command("verify")
  .description("verify a signer-issued access token against a JWKS, as a resource server would")
  .requiredOption("--jwks <url>", "JWKS URL, e.g. http://127.0.0.1:8080/.well-known/jwks.json")
  .option("--token-file <file>", "file holding the access token; - reads it from stdin")
  .option("--token <jwt>", "the access token itself (ends up in shell history: prefer --token-file)")
  .option("--audience <aud>", "required audience")
  .action(verify);
registerOperatorCommands(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof ConfigError) process.stderr.write(`${err.message}\n`);
  else process.stderr.write(`credbroker: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(err instanceof CliError ? err.exitCode : 1);
});
