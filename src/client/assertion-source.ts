import { readFile } from "node:fs/promises";
import { CredbrokerError } from "./errors.js";

/**
 * Where the client's workload assertion (the bearer JWT of every call) comes from. It is asked once per
 * HTTP request, so a rotated token is picked up on the next call, never cached by the client.
 */
export type AssertionSource = () => string | Promise<string>;

/** A fixed token (tests, short scripts), or an {@link AssertionSource}. */
export type AssertionInput = string | AssertionSource;

/**
 * Reads the assertion from a file on every call. Kubernetes rewrites projected service-account tokens
 * before they expire (and GitHub/GitLab runners or SPIFFE helpers can do the same), so the file is the
 * source of truth: caching it would send an expired token after a rotation.
 */
export function assertionFromFile(file: string): AssertionSource {
  return async () => {
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (err) {
      const code = typeof err === "object" && err !== null && "code" in err ? String(err.code) : "error";
      throw new CredbrokerError(
        "assertion_unavailable",
        `Cannot read the assertion file ${file} (${code}).`,
        {
          cause: err,
        },
      );
    }
    return nonEmpty(text, `the file ${file}`);
  };
}

/** Reads the assertion from an environment variable at each call (so a supervisor may replace it). */
export function assertionFromEnv(
  name: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): AssertionSource {
  return () => nonEmpty(env[name] ?? "", `the environment variable ${name}`);
}

/** Wraps a function (e.g. a SPIFFE Workload API fetch or a cloud metadata call) as a source. */
export function assertionFromFunction(mint: () => string | Promise<string>): AssertionSource {
  return mint;
}

/** The source for an {@link AssertionInput}: a string becomes a constant source. */
export function toAssertionSource(input: AssertionInput): AssertionSource {
  return typeof input === "string" ? () => input : input;
}

/** Calls the source, turning every failure into `assertion_unavailable` (never echoing the token). */
export async function readAssertion(source: AssertionSource): Promise<string> {
  let value: string;
  try {
    value = await source();
  } catch (err) {
    if (err instanceof CredbrokerError) throw err;
    throw new CredbrokerError("assertion_unavailable", "The assertion source failed.", { cause: err });
  }
  return nonEmpty(value, "the assertion source");
}

function nonEmpty(value: string, where: string): string {
  const token = typeof value === "string" ? value.trim() : "";
  if (token === "") throw new CredbrokerError("assertion_unavailable", `No assertion in ${where}.`);
  return token;
}
