import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadKek, openWithKek, SignerKeyError, sealWithKek } from "../../../providers/signer/kek.js";
import { randomKek } from "./signer-fixtures.js";

const ENV = "CREDBROKER_SIGNER_KEK";

function loadError(run: () => unknown): SignerKeyError {
  try {
    run();
  } catch (err) {
    if (err instanceof SignerKeyError) return err;
    throw err;
  }
  throw new Error("expected a SignerKeyError");
}

describe("loading the key-encryption key", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "credbroker-kek-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reads 32 bytes of base64 from the configured env var", () => {
    const kek = randomKek();
    expect(loadKek({ env: ENV, variables: { [ENV]: kek.toString("base64") } })).toEqual(kek);
  });

  it("accepts the key written as hex or url-safe base64", () => {
    const kek = randomKek();
    expect(loadKek({ env: ENV, variables: { [ENV]: kek.toString("hex") } })).toEqual(kek);
    expect(loadKek({ env: ENV, variables: { [ENV]: kek.toString("base64url") } })).toEqual(kek);
  });

  it("prefers the KEK file (e.g. a mounted secret, trailing newline allowed) over the env var", async () => {
    const kek = randomKek();
    const file = join(dir, "kek");
    await writeFile(file, `${kek.toString("base64")}\n`);
    expect(loadKek({ env: ENV, file, variables: { [ENV]: randomKek().toString("base64") } })).toEqual(kek);
  });

  it("without a KEK, the error names the env var and how to make a key", () => {
    const err = loadError(() => loadKek({ env: ENV, variables: {} }));
    expect(err.code).toBe("ERR_SIGNER_KEK_MISSING");
    expect(err.message).toContain(ENV);
    expect(err.message).toContain("openssl rand -base64 32");
  });

  it("a KEK of the wrong length is refused without echoing its value", () => {
    const short = randomKek().subarray(0, 16).toString("base64");
    const err = loadError(() => loadKek({ env: ENV, variables: { [ENV]: short } }));
    expect(err.code).toBe("ERR_SIGNER_KEK_INVALID");
    expect(err.message).toContain(ENV);
    expect(err.message).toContain("16 bytes");
    expect(err.message).not.toContain(short);
  });

  it("an unreadable KEK file is named in the error", () => {
    const file = join(dir, "missing");
    const err = loadError(() => loadKek({ env: ENV, file, variables: {} }));
    expect(err.code).toBe("ERR_SIGNER_KEK_INVALID");
    expect(err.message).toContain(file);
  });
});

describe("sealing with the key-encryption key", () => {
  it("opens with the same KEK and kid, and fails with another KEK or kid", () => {
    const kek = randomKek();
    const sealed = sealWithKek(kek, '{"d":"secret"}', "kid-1");
    expect(sealed.ciphertext).not.toContain("secret");
    expect(openWithKek(kek, sealed, "kid-1")).toBe('{"d":"secret"}');
    expect(() => openWithKek(randomKek(), sealed, "kid-1")).toThrow();
    expect(() => openWithKek(kek, sealed, "kid-2")).toThrow();
  });
});
