import { randomBytes } from "node:crypto";
import { Redis, ReplyError } from "ioredis";
import { createSignerKeyRing } from "../../providers/signer/signer-keys.js";
import { createSignerProvider, type SignerProvider } from "../../providers/signer/signer-provider.js";
import { deleteByPrefix, TEST_REDIS_URL, uniquePrefix } from "../support/redis-keys.js";
import { runProviderContract } from "./provider-contract.js";

/**
 * The signer's upstream is Redis (the deny-list). Faults are injected in front of the real client: a dropped
 * connection (transient) and an ACL refusal, NOPERM (permanent).
 */
runProviderContract({
  name: "signer",
  async setup() {
    const prefix = uniquePrefix("contract-signer");
    const redis = new Redis(TEST_REDIS_URL);
    const faults = { transient: 0, permanent: false };
    const faultyRedis = {
      exists: redis.exists.bind(redis),
      set: ((...args: Parameters<Redis["set"]>) => {
        if (faults.permanent)
          return Promise.reject(
            new ReplyError("NOPERM this user has no permissions to run the 'set' command"),
          );
        if (faults.transient > 0) {
          faults.transient--;
          return Promise.reject(new Error("Connection is closed."));
        }
        return redis.set(...args);
      }) as Redis["set"],
    };
    const keyRing = await createSignerKeyRing({
      redis,
      keyPrefix: prefix,
      kek: randomBytes(32),
      algorithm: "ES256",
      now: () => Date.now(),
      retentionSeconds: 900,
    });
    const provider: SignerProvider = createSignerProvider({
      redis: faultyRedis,
      keyPrefix: prefix,
      issuer: "https://broker.test",
      profiles: {
        api: { provider: "signer", max_ttl_seconds: 900, audience: "https://api.test", scopes: [] },
      },
      keyRing,
      now: () => Date.now(),
    });
    return {
      provider,
      profile: "api",
      isUsable: async (issued) => (await provider.introspect(String(issued.secret.token))).active,
      failNextRevokeTransiently: () => {
        faults.transient = 1;
      },
      failRevokesPermanently: () => {
        faults.permanent = true;
      },
      clearFaults: () => {
        faults.permanent = false;
        faults.transient = 0;
      },
      async teardown() {
        await provider.close();
        redis.disconnect();
        await deleteByPrefix(TEST_REDIS_URL, prefix);
      },
    };
  },
});
