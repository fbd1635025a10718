import { describe, expect, it } from "vitest";
import { BrokerError } from "../../../src/shared/errors.js";
import { requireRelated } from "../../../src/tasks/task-access.js";
import { task } from "../evidence/evidence-fixtures.js";

const principal = (id: string) => ({ id, issuer: "ci", subject: id.slice(3), claims: {} }) as never;

describe("task isolation", () => {
  it("lets a related principal through and answers 404 to anyone else, as for an unknown task", () => {
    const t = task({ id: "tsk_iso", related: ["ci:owner", "ci:agent"] });
    expect(requireRelated(t, principal("ci:agent"))).toBe(t);
    for (const [subject, who] of [
      [t, "ci:stranger"],
      [null, "ci:agent"],
    ] as const) {
      const thrown = (() => {
        try {
          requireRelated(subject, principal(who));
        } catch (err) {
          return err;
        }
      })();
      expect(thrown).toBeInstanceOf(BrokerError);
      expect(thrown).toMatchObject({ code: "not_found", status: 404 });
    }
  });
});
