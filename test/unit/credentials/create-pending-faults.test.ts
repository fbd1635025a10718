import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { credentialKeys } from "../../../src/credentials/credential-keys.js";
import { createCredentialStore } from "../../../src/credentials/credential-store.js";
import { taskKeys } from "../../../src/tasks/task-keys.js";
import { pendingCredential } from "../../support/credential-fixture.js";
import { redisServerMissing, type StandaloneRedis, startStandalone } from "../../support/redis-servers.js";

const prefix = "cpf";
const keys = credentialKeys(prefix);
const tasks = taskKeys(prefix);
let server: StandaloneRedis;
let admin: Redis;
let restricted: Redis;

/**
 * The hints and the record of a new credential go out in one round trip. A user the ACL lets write task and
 * credential records but not the credential → task index plays a hint write that fails while the record
 * lands: the store must leave no pending credential behind (the issuer would call the provider for it).
 */
describe.skipIf(redisServerMissing() !== null)(
  "recording a pending credential when a hint write fails",
  () => {
    beforeAll(async () => {
      server = await startStandalone();
      admin = new Redis(server.url);
      const allowed = [
        tasks.task("*"),
        tasks.credentials("*"),
        keys.credential("*", "*"),
        keys.pending,
        keys.all,
      ];
      await admin.call(
        "ACL",
        "SETUSER",
        "hinted",
        "on",
        ">pw",
        "+@all",
        ...allowed.map((pattern) => `~${pattern.replaceAll("{", "\\{").replaceAll("}", "\\}")}`),
      );
      restricted = new Redis(`redis://hinted:pw@127.0.0.1:${server.port}/0`, { maxRetriesPerRequest: 0 });
    });
    afterAll(async () => {
      restricted?.disconnect();
      admin?.disconnect();
      await server?.stop();
    });

    it("fails the recorded credential, drops its hints and keeps the task's unsettled count", async () => {
      const taskId = "tsk_hint";
      await admin.hset(
        tasks.task(taskId),
        "state",
        "open",
        "deadline",
        String(Date.now() + 60_000),
        "unsettled",
        "0",
      );
      const store = createCredentialStore({ redis: restricted, keyPrefix: prefix, now: () => Date.now() });
      const credential = pendingCredential({
        id: "crd_hint",
        taskId,
        agent: "ci:a",
        profile: "p",
        provider: "signer",
      });

      await expect(store.createPending(credential, Date.now())).rejects.toThrow(/NOPERM/);

      expect(await admin.hget(keys.credential(taskId, credential.id), "state")).toBe("failed");
      expect(await admin.zscore(keys.pending, credential.id)).toBeNull();
      expect(await admin.zscore(keys.all, credential.id)).toBeNull();
      expect(await admin.hget(tasks.task(taskId), "unsettled")).toBe("0");
    });
  },
);
