import { describe, expect, it } from "vitest";
import { chainEvent, hashEvent } from "../../../src/audit/audit-chain.js";
import { GENESIS_HASH } from "../../../src/audit/audit-types.js";
import { verifyChain } from "../../../src/audit/audit-verify.js";

const T = "2026-12-04T00:00:00.000Z";

function chainOf(count: number) {
  const events = [];
  let prev = { seq: 0, hash: GENESIS_HASH };
  for (let i = 0; i < count; i++) {
    const event = chainEvent(
      { type: "keys.rotated", actor: "system:broker", details: { kid: `k${i}` } },
      prev,
      T,
    );
    events.push(event);
    prev = { seq: event.seq, hash: event.hash };
  }
  return events;
}

const verify = (events: ReturnType<typeof chainOf>) =>
  verifyChain({
    events,
    anchor: null,
    checkpoints: [],
    head: events.length ? { seq: events.at(-1)!.seq, hash: events.at(-1)!.hash } : null,
    checkSignature: async () => true,
  });

describe("the audit hash chain", () => {
  it("links each event to the one before and hashes its canonical JSON", () => {
    const [first, second] = chainOf(2);
    expect(first?.prev_hash).toBe(GENESIS_HASH);
    expect(second?.prev_hash).toBe(first?.hash);
    expect(hashEvent(second!)).toBe(second?.hash);
  });

  it("an edited detail, a dropped event or a reordering no longer verifies, and names where", async () => {
    expect(await verify(chainOf(3))).toMatchObject({ valid: true, events: 3 });
    const edited = chainOf(3);
    edited[1] = { ...edited[1]!, details: { kid: "forged" } } as (typeof edited)[number];
    expect(await verify(edited)).toMatchObject({ valid: false, first_invalid: { seq: 2 } });
    const dropped = chainOf(3);
    dropped.splice(1, 1);
    expect(await verify(dropped)).toMatchObject({ valid: false });
  });
});
