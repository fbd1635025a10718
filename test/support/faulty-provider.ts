import type { CredentialProvider } from "../../providers/provider.js";
import { PermanentProviderError, TransientProviderError } from "../../providers/provider-errors.js";
import { delegateTo } from "./provider-delegate.js";

/** Upstream faults a test can switch on and off, applied to a real provider. */
export interface Faults {
  /** Fail the next N revocations with a transient error. */
  failRevokes: number;
  /** Every revocation fails permanently while true. */
  permanentRevokeFailure: boolean;
  /** Every issuance fails (transiently: the upstream may or may not have issued) while true. */
  failIssue: boolean;
  /** Every issuance is refused outright (nothing issued) while true. */
  refuseIssue: boolean;
  revokeCalls: number;
}

export function newFaults(): Faults {
  return {
    failRevokes: 0,
    permanentRevokeFailure: false,
    failIssue: false,
    refuseIssue: false,
    revokeCalls: 0,
  };
}

/** Decorates providers so `faults` decides whether the real call happens. */
export const withFaults =
  (faults: Faults) =>
  (providers: CredentialProvider[]): CredentialProvider[] =>
    providers.map((provider) =>
      delegateTo(provider, {
        async issue(request) {
          if (faults.refuseIssue) throw new PermanentProviderError("role not found (injected)");
          if (faults.failIssue) {
            // The upstream issued, but the answer never arrived (a timeout after success).
            await provider.issue(request);
            throw new TransientProviderError("upstream timed out (injected)");
          }
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
      }),
    );
