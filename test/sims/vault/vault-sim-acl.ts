/**
 * A small model of Vault's ACL: named policies map path patterns to capabilities. A pattern ending in `*` is a
 * prefix glob and `+` matches one path segment. For a request Vault uses the most specific matching pattern
 * (an exact path beats any glob; a longer glob beats a shorter one), merging the capabilities every policy
 * grants on that same pattern; `deny` wins over everything.
 */

export type Capability = "create" | "read" | "update" | "delete" | "list" | "sudo" | "deny";

/** One policy as HCL would state it: `path "<pattern>" { capabilities = [...] }`. */
export type SimPolicy = Readonly<Record<string, readonly Capability[]>>;

/** Vault's built-in `default` policy, reduced to the paths the broker touches. */
export const DEFAULT_POLICY: SimPolicy = {
  "auth/token/lookup-self": ["read"],
  "auth/token/renew-self": ["update"],
  "auth/token/revoke-self": ["update"],
  "sys/capabilities-self": ["update"],
};

function patternMatches(pattern: string, path: string): boolean {
  const glob = pattern.endsWith("*");
  const body = glob ? pattern.slice(0, -1) : pattern;
  const patternSegments = body.split("/");
  const pathSegments = path.split("/");
  if (!glob && patternSegments.length !== pathSegments.length) return false;
  for (let i = 0; i < patternSegments.length; i++) {
    const want = patternSegments[i] ?? "";
    const got = pathSegments[i];
    if (got === undefined) return false;
    const last = i === patternSegments.length - 1;
    if (want === "+") continue;
    if (glob && last) return got.startsWith(want);
    if (want !== got) return false;
  }
  return true;
}

/** Higher is more specific. */
function specificity(pattern: string): number {
  const exact = !pattern.includes("*") && !pattern.includes("+");
  return (exact ? 1_000_000 : 0) + pattern.replace(/[*+]/g, "").length;
}

/** The capabilities the named policies grant on `path`. `root` grants everything. */
export function capabilitiesOn(
  policies: ReadonlyMap<string, SimPolicy>,
  names: readonly string[],
  path: string,
): ReadonlySet<Capability> {
  if (names.includes("root"))
    return new Set<Capability>(["create", "read", "update", "delete", "list", "sudo"]);
  let best = -1;
  let granted = new Set<Capability>();
  for (const name of names) {
    const policy = name === "default" ? (policies.get(name) ?? DEFAULT_POLICY) : policies.get(name);
    for (const [pattern, capabilities] of Object.entries(policy ?? {})) {
      if (!patternMatches(pattern, path)) continue;
      const score = specificity(pattern);
      if (score > best) {
        best = score;
        granted = new Set(capabilities);
      } else if (score === best) {
        for (const capability of capabilities) granted.add(capability);
      }
    }
  }
  return granted.has("deny") ? new Set() : granted;
}
