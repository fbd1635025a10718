import { existsSync } from "node:fs";
import path from "node:path";
import { loadKek } from "../../providers/signer/kek.js";
import { fetchTrusting } from "../auth/ca-fetch.js";
import { describeFetchError, MAX_DOCUMENT_BYTES } from "../auth/jwks-cache.js";
import type { BrokerConfig, IssuerConfig } from "../config/config-schema.js";
import { openStoreConnections } from "../health/store-connections.js";
import { createPolicyEngine } from "../policy/policy-engine.js";
import { readBoundedText } from "../shared/bounded-body.js";
import { createLogger } from "../shared/logger.js";

/** One finding of `credbroker doctor`: what was checked, whether it is fine, and the detail or the fix. */
export interface Finding {
  check: string;
  ok: boolean;
  detail: string;
}

const ok = (check: string, detail: string): Finding => ({ check, ok: true, detail });
const problem = (check: string, detail: string): Finding => ({ check, ok: false, detail });
const message = (err: unknown) => (err instanceof Error ? err.message : String(err));
type Env = Readonly<Record<string, string | undefined>>;

export function checkPolicies(config: BrokerConfig, configDir: string): Finding {
  try {
    const engine = createPolicyEngine({
      files: config.policy.files,
      baseDir: configDir,
      logger: createLogger({ level: "silent" }),
    });
    const { count, policyIds } = engine.info();
    if (count === 0) return problem("policies", "no policies are loaded: every action would be denied");
    return ok("policies", `${count} policies valid against the schema (${policyIds.join(", ")})`);
  } catch (err) {
    return problem("policies", message(err));
  }
}

export function checkSecrets(config: BrokerConfig, configDir: string, env: Env): Finding[] {
  const signer = config.providers.signer;
  const findings: Finding[] = [];
  if (signer.key_files) {
    const missing = signer.key_files.filter((file) => !existsSync(path.resolve(configDir, file)));
    findings.push(
      missing.length
        ? problem("signer keys", `missing key files: ${missing.join(", ")}`)
        : ok("signer keys", "key files present"),
    );
  } else {
    try {
      const file = signer.kek_file ? path.resolve(configDir, signer.kek_file) : undefined;
      loadKek({ env: signer.kek_env, file, variables: env });
      findings.push(ok("signer KEK", `32-byte key from ${file ?? `$${signer.kek_env}`}`));
    } catch (err) {
      findings.push(problem("signer KEK", message(err)));
    }
  }
  const hmac = env[config.audit.hmac_key_env];
  findings.push(
    hmac && Buffer.from(hmac, "base64").length >= 32
      ? ok("audit HMAC key", `$${config.audit.hmac_key_env} set`)
      : problem(
          "audit HMAC key",
          `$${config.audit.hmac_key_env} unset or under 32 bytes: handle hashes will not correlate across replicas`,
        ),
  );
  return findings;
}

async function fetchDocument(
  url: string,
  timeoutMs: number,
  fetchImpl: typeof fetch,
): Promise<Record<string, unknown>> {
  const response = await fetchImpl(url, { signal: AbortSignal.timeout(timeoutMs), redirect: "error" });
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  return JSON.parse(await readBoundedText(response, MAX_DOCUMENT_BYTES, url)) as Record<string, unknown>;
}

export async function checkIssuer(
  issuer: IssuerConfig,
  configDir: string,
  timeoutMs = 5_000,
): Promise<Finding> {
  const check = `issuer ${issuer.name}`;
  try {
    const fetchImpl = issuer.ca_file ? fetchTrusting(path.resolve(configDir, issuer.ca_file)) : fetch;
    let jwksUri = issuer.jwks_uri;
    if (!jwksUri) {
      const discovery = await fetchDocument(
        `${issuer.issuer.replace(/\/$/, "")}/.well-known/openid-configuration`,
        timeoutMs,
        fetchImpl,
      );
      if (typeof discovery.jwks_uri !== "string")
        return problem(check, "its discovery document has no jwks_uri");
      jwksUri = discovery.jwks_uri;
    }
    const jwks = await fetchDocument(jwksUri, timeoutMs, fetchImpl);
    const keys = Array.isArray(jwks.keys) ? jwks.keys.length : 0;
    return keys > 0 ? ok(check, `${keys} keys at ${jwksUri}`) : problem(check, `no keys at ${jwksUri}`);
  } catch (err) {
    return problem(check, describeFetchError(err));
  }
}

export async function checkRedis(config: BrokerConfig, env: Env): Promise<Finding> {
  try {
    const store = await openStoreConnections(config.redis, env, createLogger({ level: "silent" }));
    store.disconnect();
    return ok("redis", `${store.target} reachable, maxmemory-policy noeviction`);
  } catch (err) {
    return problem("redis", message(err));
  }
}

export function checkProviders(config: BrokerConfig, configDir: string, env: Env): Finding[] {
  const findings: Finding[] = [];
  const vault = config.providers.vault;
  if (vault) {
    const auth = vault.auth;
    const source =
      auth.method === "token"
        ? { env: auth.token_env, file: auth.token_file }
        : { env: auth.secret_id_env, file: auth.secret_id_file };
    const present = source.file ? existsSync(path.resolve(configDir, source.file)) : Boolean(env[source.env]);
    findings.push(
      present
        ? ok("vault credentials", `${auth.method} from ${source.file ?? `$${source.env}`}`)
        : problem(
            "vault credentials",
            `${auth.method}: set $${source.env}${source.file ? ` or create ${source.file}` : ""}`,
          ),
    );
  }
  if (config.providers.sts) {
    const keys = Boolean(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY);
    findings.push(
      ok(
        "aws credentials",
        keys ? "from $AWS_ACCESS_KEY_ID" : "the AWS SDK's default chain (role, profile, IMDS)",
      ),
    );
  }
  return findings;
}
