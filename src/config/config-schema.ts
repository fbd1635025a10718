import { z } from "zod";
import { signerProfileSchema, signerProviderConfigSchema } from "../../providers/signer/signer-config.js";
import { stsProfileSchema, stsProviderConfigSchema } from "../../providers/sts/sts-config.js";
import { vaultProfileSchema, vaultProviderConfigSchema } from "../../providers/vault/vault-config.js";
import { redisConfigSchema } from "./redis-config.js";

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]", "::1"]);

/** https everywhere, plain http only on loopback (dev and tests). */
export function isAllowedUrl(raw: string): boolean {
  try {
    const url = new URL(raw);
    if (url.protocol === "https:") return true;
    return url.protocol === "http:" && (LOOPBACK_HOSTS.has(url.hostname) || url.hostname.startsWith("127."));
  } catch {
    return false;
  }
}

const secureUrl = z
  .string()
  .refine(isAllowedUrl, "must be an https URL (plain http is accepted only on loopback addresses)");

export const ISSUER_KINDS = ["oidc", "kubernetes", "github", "gitlab", "spiffe"] as const;
export type IssuerKind = (typeof ISSUER_KINDS)[number];

export const ASSERTION_ALGORITHMS = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
] as const;

const issuerSchema = z
  .object({
    /** Short name; principals are `<name>:<sub>`. */
    name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, "use lowercase letters, digits, '-' and '_'"),
    kind: z.enum(ISSUER_KINDS),
    /** Exact `iss` value. */
    issuer: secureUrl,
    /** Explicit JWKS; otherwise discovered from `<issuer>/.well-known/openid-configuration`. */
    jwks_uri: secureUrl.optional(),
    /**
     * PEM file of the CA(s) that sign the issuer's TLS certificate, when not a public one (in a Kubernetes
     * pod: `/var/run/secrets/kubernetes.io/serviceaccount/ca.crt`). Relative to the config file.
     */
    ca_file: z.string().min(1).optional(),
    algorithms: z.array(z.enum(ASSERTION_ALGORITHMS)).min(1).default(["RS256", "ES256"]),
    max_token_age_seconds: z.number().int().positive().max(86_400).default(3600),
    /** `aud` the assertion must contain; defaults to `server.audience`. */
    audience: z.string().min(1).optional(),
    /** Reject a second use of the same assertion (by `jti`, else its hash). Off by default. */
    replay_guard: z.boolean().default(false),
    /** How long fetched keys are trusted before a refresh; removed keys stop working after this. */
    jwks_cache_seconds: z.number().int().positive().max(86_400).default(300),
    /** Minimum time between JWKS refetches triggered by unknown `kid`s. */
    jwks_cooldown_seconds: z.number().int().nonnegative().max(3600).default(30),
    /**
     * `kind: spiffe` only: the trust domain whose JWT-SVIDs this issuer vouches for. SVIDs without `iss`
     * (SPIRE's default) are matched to this issuer by the trust domain of their `sub`; every SVID's `sub`
     * must be in it. Point `jwks_uri` at the trust domain's bundle endpoint (a JWK Set; `jwt-svid` keys).
     */
    trust_domain: z
      .string()
      .regex(/^[a-z0-9._-]{1,255}$/, "a SPIFFE trust domain: lowercase letters, digits, '.', '-' and '_'")
      .optional(),
  })
  .strict()
  .refine((issuer) => issuer.trust_domain === undefined || issuer.kind === "spiffe", {
    message: "trust_domain applies to kind: spiffe only",
    path: ["trust_domain"],
  });

export type IssuerConfig = z.infer<typeof issuerSchema>;

/** Issuer name reserved for resource servers: their principals are `rs:<client_id>`. */
export const RESOURCE_SERVER_ISSUER = "rs";

/**
 * `resource_servers[]`: an OAuth client (RFC 6749) that may call `POST /v1/introspect` with
 * `client_secret_basic` (its secret in the env var `secret_env`) or `private_key_jwt` (RFC 7523, keys in
 * `jwks_uri` or `jwks`), and only for signer tokens whose `aud` is in `audiences`.
 */
const resourceServerSchema = z
  .object({
    /** OAuth client id; the principal is `rs:<client_id>`. RFC 6749 §2.3.1 characters only. */
    client_id: z.string().regex(/^[A-Za-z0-9._~-]{1,128}$/, "use letters, digits, '.', '_', '~' and '-'"),
    /** Env var holding the client secret (at least 32 characters); the secret is never in the file. */
    secret_env: z.string().min(1).optional(),
    /** Where the client's public keys for `private_key_jwt` are published. */
    jwks_uri: secureUrl.optional(),
    /** The client's public keys for `private_key_jwt`, inline. */
    jwks: z.object({ keys: z.array(z.record(z.string(), z.unknown())).min(1) }).optional(),
    /** Token audiences (a signer profile's `audience`) whose tokens this client may introspect. */
    audiences: z.array(z.string().min(1)).min(1),
  })
  .strict()
  .refine((rs) => rs.secret_env !== undefined || rs.jwks_uri !== undefined || rs.jwks !== undefined, {
    message: "give secret_env, jwks_uri or jwks: how the client authenticates",
  })
  .refine((rs) => rs.jwks_uri === undefined || rs.jwks === undefined, {
    message: "give jwks_uri or jwks, not both",
  });

export type ResourceServerConfig = z.infer<typeof resourceServerSchema>;

/**
 * `signals.receivers[]`: an IdP acting as an SSF transmitter toward the broker. Its SETs are verified with
 * the keys at `jwks_uri`, or at the `jwks_uri` of its SSF metadata (`configuration_url`).
 */
const signalReceiverSchema = z
  .object({
    /** Names the transmitter in the audit log (`actor` `ssf:<name>`). */
    name: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, "use letters, digits, '.', '_' and '-'"),
    /** The `iss` its SETs carry. */
    issuer: z.string().min(1),
    jwks_uri: secureUrl.optional(),
    /** Its SSF configuration metadata (`/.well-known/ssf-configuration`), read for `jwks_uri`. */
    configuration_url: secureUrl.optional(),
    /** The `aud` its SETs must carry for this broker. */
    audience: z.string().min(1),
  })
  .strict()
  .refine((r) => (r.jwks_uri === undefined) !== (r.configuration_url === undefined), {
    message: "give jwks_uri or configuration_url (exactly one)",
  });

export type SignalReceiverConfig = z.infer<typeof signalReceiverSchema>;

export const profileSchema = z.discriminatedUnion("provider", [
  signerProfileSchema,
  vaultProfileSchema,
  stsProfileSchema,
]);
export type ProfileConfig = z.infer<typeof profileSchema>;

const profileName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, "use lowercase letters, digits, '.', '-' and '_'");

/** `console`: the web console at /console (docs/console.md); absent or `enabled: false` = not served. */
const consoleSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** The organisation's IdP: authorization code + PKCE, the client authenticated with its secret. */
    oidc: z
      .object({
        /** The issuer name in principal ids (`<name>:<sub>`); reuse a workload issuer's name to share identities. */
        name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, "use lowercase letters, digits, '-' and '_'"),
        issuer: secureUrl,
        client_id: z.string().min(1),
        /** Env var holding the client secret (never in the file). */
        client_secret_env: z.string().default("CREDBROKER_CONSOLE_CLIENT_SECRET"),
        scopes: z.array(z.string().min(1)).default(["openid", "profile", "email"]),
        /** ID-token claims kept on the signed-in principal (others are dropped); scalar ones become policy tags. */
        allowed_claims: z.array(z.string().min(1)).default(["email", "preferred_username", "name"]),
        /** The IdP's ID-token signing algorithm. */
        id_token_alg: z.enum(ASSERTION_ALGORITHMS).default("RS256"),
      })
      .strict(),
    session: z
      .object({
        /** A session unused this long ends. */
        idle_timeout_seconds: z.number().int().min(60).max(86_400).default(900),
        /** A session ends this long after sign-in, used or not. */
        absolute_timeout_seconds: z
          .number()
          .int()
          .min(300)
          .max(7 * 86_400)
          .default(28_800),
      })
      .strict()
      .prefault({}),
    /** How often open pages refresh their live parts (approvals queue, revocation progress). */
    refresh_seconds: z.number().min(0.2).max(60).default(5),
  })
  .strict();

export const configSchema = z
  .object({
    server: z
      .object({
        port: z.number().int().min(0).max(65_535).default(8080),
        /** The worker role's own listener for /healthz, /readyz and /metrics (on `host`); 0 picks a free port. */
        worker_port: z.number().int().min(0).max(65_535).default(8081),
        host: z.string().default("127.0.0.1"),
        /** Every workload assertion's `aud` must contain this. */
        audience: z.string().min(1),
        public_url: secureUrl,
        /** Number of reverse-proxy hops to trust for client addresses. */
        trust_proxy: z.number().int().nonnegative().default(0),
        /** A connection must deliver its request headers within this long, or it is answered 408 and closed. */
        headers_timeout_ms: z.number().int().min(100).max(120_000).default(10_000),
        /** A request (headers and body) must arrive in full within this long; at least `headers_timeout_ms`. */
        request_timeout_ms: z.number().int().min(100).max(600_000).default(30_000),
        /**
         * An idle keep-alive connection is closed after this long (whole seconds are advertised in
         * `Keep-Alive: timeout=`). Keep it above a proxy's idle timeout.
         */
        keep_alive_timeout_ms: z.number().int().min(1_000).max(600_000).default(5_000),
      })
      .strict()
      .refine((server) => server.headers_timeout_ms <= server.request_timeout_ms, {
        path: ["headers_timeout_ms"],
        message: "must not exceed server.request_timeout_ms",
      }),
    redis: redisConfigSchema,
    issuers: z
      .array(issuerSchema)
      .default([])
      .refine((issuers) => issuers.every((i) => i.name !== RESOURCE_SERVER_ISSUER), {
        message: `the issuer name "${RESOURCE_SERVER_ISSUER}" is reserved for resource_servers`,
      }),
    resource_servers: z
      .array(resourceServerSchema)
      .default([])
      .refine((list) => new Set(list.map((rs) => rs.client_id)).size === list.length, {
        message: "client_id values must be unique",
      }),
    policy: z
      .object({
        files: z.array(z.string()).default([]),
        /**
         * Decisions remembered per policy set, keyed on exactly the inputs the loaded policies read; actions
         * whose policies read the clock are never cached. 0 asks Cedar every time.
         */
        decision_cache_size: z.number().int().min(0).max(1_000_000).default(10_000),
      })
      .strict()
      .default({ files: [], decision_cache_size: 10_000 }),
    providers: z
      .object({
        signer: signerProviderConfigSchema.default({ algorithm: "ES256", kek_env: "CREDBROKER_SIGNER_KEK" }),
        vault: vaultProviderConfigSchema.optional(),
        sts: stsProviderConfigSchema.optional(),
      })
      .strict()
      .default({ signer: { algorithm: "ES256", kek_env: "CREDBROKER_SIGNER_KEK" } }),
    profiles: z.record(profileName, profileSchema).default({}),
    limits: z
      .object({
        max_task_ttl_seconds: z
          .number()
          .int()
          .positive()
          .max(30 * 86_400)
          .default(86_400),
        max_delegation_depth: z.number().int().min(0).max(16).default(4),
        /** Requests per principal per minute on /v1. */
        requests_per_minute: z.number().int().positive().default(600),
        /** Open tasks one principal may own at once (past-deadline tasks do not count). */
        open_tasks_per_principal: z.number().int().positive().max(1_000_000).default(100),
        /** Child tasks one task may have, over its lifetime. */
        children_per_task: z.number().int().positive().max(100_000).default(20),
        /** Credentials one task may have requested, over its lifetime. */
        credentials_per_task: z.number().int().positive().max(100_000).default(50),
        /** Pending approvals one requester may have at once. */
        pending_approvals_per_requester: z.number().int().positive().max(100_000).default(10),
        /** Rejected assertions one client address may cause per minute before it is refused unverified (429). */
        rejected_assertions_per_address_per_minute: z.number().int().positive().max(1_000_000).default(60),
      })
      .strict()
      .prefault({}),
    revocation: z
      .object({
        /** Attempts per revocation job before the credential lands in revoke_failed. */
        attempts: z.number().int().min(1).max(50).default(8),
        /** First retry delay; doubles each attempt. */
        backoff_ms: z.number().int().min(10).max(600_000).default(1000),
        concurrency: z.number().int().min(1).max(1000).default(50),
        reconcile_interval_seconds: z.number().positive().max(3600).default(30),
        /** A `pending` credential older than this is presumed half-issued and revoked. */
        pending_grace_seconds: z.number().int().positive().max(3600).default(120),
        /** How often the reconciler re-tries credentials in revoke_failed. */
        failed_retry_interval_seconds: z.number().int().positive().default(600),
        /**
         * A worker holds each job under a lock it renews every half of this; a job whose worker died is taken
         * over by a live worker within about twice this (lock expiry plus the next stalled-job check).
         */
        job_lock_seconds: z.number().min(1).max(300).default(4),
        /** A revocation whose worker died this many times is not tried again by a worker: revoke_failed. */
        max_job_stalls: z.number().int().min(1).max(20).default(3),
      })
      .strict()
      .default({
        attempts: 8,
        backoff_ms: 1000,
        concurrency: 50,
        reconcile_interval_seconds: 30,
        pending_grace_seconds: 120,
        failed_retry_interval_seconds: 600,
        job_lock_seconds: 4,
        max_job_stalls: 3,
      }),
    approvals: z
      .object({
        /** How long an approval waits for a human (never past the task's deadline). */
        ttl_seconds: z.number().int().positive().max(86_400).default(600),
        /** How long decided approvals are kept for review. */
        retention_days: z.number().positive().default(7),
        /** Announces each new approval: signed JSON POST, retried by the worker. */
        webhook: z
          .object({
            url: secureUrl,
            /** Env var with the HMAC key (base64, ≥ 32 bytes) that signs the body. */
            secret_env: z.string().default("CREDBROKER_APPROVAL_WEBHOOK_SECRET"),
            timeout_ms: z.number().int().positive().max(60_000).default(5_000),
          })
          .strict()
          .optional(),
      })
      .strict()
      .default({ ttl_seconds: 600, retention_days: 7 }),
    /** Shared Signals (SSF 1.0) transmitter: streams for resource servers (docs/signals.md). */
    signals: z
      .object({
        /** Streams one resource server may have at once. */
        max_streams_per_client: z.number().int().min(1).max(100).default(5),
        /** Push attempts per SET before it is given up (each failure is counted on the stream's status). */
        delivery_attempts: z.number().int().min(1).max(50).default(10),
        /** First wait before a push is retried; doubles on each attempt. */
        delivery_backoff_ms: z.number().int().min(10).max(600_000).default(1_000),
        /** A push receiver must answer within this long. */
        delivery_timeout_ms: z.number().int().positive().max(60_000).default(5_000),
        /** SETs a poll stream holds unacknowledged; past it the oldest are dropped. */
        poll_max_held: z.number().int().min(10).max(1_000_000).default(10_000),
        /** IdP transmitters whose SETs (pushed to `POST /ssf/events`) close their initiators' tasks. */
        receivers: z.array(signalReceiverSchema).default([]),
        /** A received SET whose `iat` is older than this is refused (it bounds the jti replay records). */
        receiver_max_age_seconds: z.number().int().min(10).max(86_400).default(3_600),
      })
      .strict()
      .prefault({}),
    /** The OAuth side (docs/oauth.md). */
    oauth: z
      .object({
        /** Lifetime of a task token (never past its task's deadline); refresh it with POST /v1/tasks/{id}/task-token. */
        task_token_ttl_seconds: z.number().int().min(30).max(86_400).default(900),
        /** CIBA `interval`: the least time between two polls of one approval at the token endpoint. */
        ciba_interval_seconds: z.number().int().min(1).max(60).default(5),
        /** Require a DPoP server nonce in every DPoP proof at the token endpoint (RFC 9449 §8). */
        dpop_require_nonce: z.boolean().default(false),
      })
      .strict()
      .prefault({}),
    audit: z
      .object({
        /** Env var with the key for keyed hashes of handles in audit events (generated per process if unset). */
        hmac_key_env: z.string().default("CREDBROKER_AUDIT_HMAC_KEY"),
        /** A signed checkpoint after this many events… */
        checkpoint_every_events: z.number().int().positive().default(1000),
        /** …or this many seconds, whichever comes first (when there are new events). */
        checkpoint_interval_seconds: z.number().positive().max(86_400).default(300),
        /**
         * `GET /v1/audit/verify` walks the whole chain while it is at most this many events long; past it,
         * only from the newest checkpoint (the full walk is `POST /v1/audit/verifications`, a job).
         */
        verify_full_up_to_events: z.number().int().min(0).max(100_000_000).default(50_000),
        /** Trim events older than this; a checkpoint is kept at the trim point. Unset: keep everything. */
        retention_days: z.number().positive().optional(),
        /** Rejected assertions are summarised per issuer and reason over intervals this long… */
        rejection_interval_seconds: z.number().int().min(1).max(3_600).default(60),
        /** …and only this many of each interval are recorded one by one. */
        rejection_samples: z.number().int().min(0).max(1_000).default(5),
      })
      .strict()
      .prefault({}),
    console: consoleSchema.optional(),
  })
  .strict();

export type BrokerConfig = z.infer<typeof configSchema>;
