/**
 * The initiator identifiers a SET's subject (RFC 9493 / SSF 1.0 `sub_id`) names, as the broker matches
 * them against a task's `initiator.subject`: `email` → the address; `iss_sub` → `sub`; `opaque` → `id`;
 * `account` → the URI without `acct:`; `complex` → its `user` member. Other formats name no initiator.
 */
export function initiatorsOf(subject: unknown, depth = 0): string[] {
  if (typeof subject !== "object" || subject === null || depth > 2) return [];
  const s = subject as Record<string, unknown>;
  const found: string[] = [];
  const add = (value: unknown) => {
    if (typeof value === "string" && value !== "" && value.length <= 512) found.push(value);
  };
  switch (s.format) {
    case "email":
      add(s.email);
      break;
    case "iss_sub":
      add(s.sub);
      break;
    case "opaque":
      add(s.id);
      break;
    case "account":
      if (typeof s.uri === "string") add(s.uri.replace(/^acct:/, ""));
      break;
    case "complex":
      found.push(...initiatorsOf(s.user, depth + 1));
      break;
    default:
      break;
  }
  return [...new Set(found)];
}
