import type { CredentialProvider } from "../../providers/provider.js";
import { PermanentProviderError, TransientProviderError } from "../../providers/provider-errors.js";

/** Upstream faults a test can switch on and off, applied to a real provider. */
export interface Faults {
  /** Fail the next N revocations with a transient error. */
  failRevokes: number;
  /** Every revocation fails permanently while true. */
  permanentRevokeFailure: boolean;
  /** Every issuance fails while true. */
  failIssue: boolean;
  revokeCalls: number;
}

export function newFaults(): Faults {
  return { failRevokes: 0, permanentRevokeFailure: false, failIssue: false, revokeCalls: 0 };
}

/** Decorates providers so `faults` decides whether the real call happens. */
export const withFaults =
  (faults: Faults) =>
  (providers: CredentialProvider[]): CredentialProvider[] =>
    providers.map((provider) => ({
      kind: provider.kind,
      semantics: provider.semantics,
      hasProfile: (profile) => provider.hasProfile(profile),
      ttlBounds: (profile) => provider.ttlBounds(profile),
      allowedScopes: (profile) => provider.allowedScopes(profile),
      close: () => provider.close(),
      async issue(request) {
        if (faults.failIssue) throw new TransientProviderError("upstream unavailable (injected)");
        return provider.issue(request);
      },
      async revoke(request) {
        faults.revokeCalls++;
        if (faults.permanentRevokeFailure) throw new PermanentProviderError("access denied (injected)");
        if (faults.failRevokes > 0) {
          faults.failRevokes--;
          throw new TransientProviderError("upstream timeout (injected)");
        }
        return provider.revoke(request);
      },
    }));
