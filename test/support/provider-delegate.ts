import type { CredentialProvider } from "../../providers/provider.js";

/**
 * A provider that forwards every call to `provider`, with `overrides` in place of some: the one way the
 * tests decorate real providers (fault injection, taps), so the contract is forwarded in one place.
 */
export function delegateTo(
  provider: CredentialProvider,
  overrides: Partial<Pick<CredentialProvider, "issue" | "revoke">>,
): CredentialProvider {
  return {
    kind: provider.kind,
    semantics: provider.semantics,
    hasProfile: (profile) => provider.hasProfile(profile),
    ttlBounds: (profile) => provider.ttlBounds(profile),
    allowedScopes: (profile) => provider.allowedScopes(profile),
    close: () => provider.close(),
    ...(provider.housekeeping ? { housekeeping: () => provider.housekeeping?.() ?? Promise.resolve() } : {}),
    issue: (request) => provider.issue(request),
    revoke: (request) => provider.revoke(request),
    ...overrides,
  };
}
