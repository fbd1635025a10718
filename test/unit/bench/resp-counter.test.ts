import { describe, expect, it } from "vitest";
import { createRespCounter } from "../../../bench/resp-counter.js";

const resp = (...args: string[]): string =>
  `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")}`;

describe("bench RESP command counter", () => {
  it("counts each command of a pipeline once", () => {
    const counter = createRespCounter();
    counter.feed(Buffer.from(resp("SET", "k", "v") + resp("GET", "k") + resp("PING")));
    expect(counter.commands()).toBe(3);
  });

  it("is not fooled by payloads that look like RESP headers, split anywhere", () => {
    const stream = Buffer.from(resp("SET", "k", "*2\r\n$3\r\nGET\r\n") + resp("EVALSHA", "abc", "0"));
    for (let cut = 1; cut < stream.length; cut++) {
      const counter = createRespCounter();
      counter.feed(stream.subarray(0, cut));
      counter.feed(stream.subarray(cut));
      expect(counter.commands(), `split at ${cut}`).toBe(2);
    }
  });

  it("counts an inline command and ignores blank lines", () => {
    const counter = createRespCounter();
    counter.feed(Buffer.from("PING\r\n\r\n"));
    expect(counter.commands()).toBe(1);
  });
});
