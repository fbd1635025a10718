import { describe, expect, it } from "vitest";
import { confirmed, selectorOf } from "../../../src/console/console-revocations.js";

describe("the emergency revocation form", () => {
  it("reads exactly one selector from the form, or refuses", () => {
    expect(selectorOf({ kind: "agent", value: "dev:copilot" })).toEqual({ agent: "dev:copilot" });
    expect(selectorOf({ kind: "all", value: "ignored" })).toEqual({ all: true });
    expect(() => selectorOf({ kind: "agent", value: "" })).toThrow(/Choose what to revoke/);
    expect(() => selectorOf({ kind: "credential", value: "x" })).toThrow(/Choose what to revoke/);
  });

  it("is confirmed only by the dry run's count or the selector's value", () => {
    expect(confirmed({ agent: "dev:copilot" }, "3", "3")).toBe(true);
    expect(confirmed({ agent: "dev:copilot" }, "3", "dev:copilot")).toBe(true);
    expect(confirmed({ agent: "dev:copilot" }, "3", "4")).toBe(false);
    expect(confirmed({ agent: "dev:copilot" }, "3", "")).toBe(false);
    expect(confirmed({ all: true }, "12", "all")).toBe(true);
    expect(confirmed({ all: true }, "12", "true")).toBe(false);
  });
});
