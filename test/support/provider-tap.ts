import type { CredentialProvider, IssuedCredential, IssueRequest } from "../../providers/provider.js";
import { delegateTo } from "./provider-delegate.js";

/** What a provider handed out, as the upstream saw it (the test's ground truth, not the broker's records). */
export interface TappedIssue {
  request: IssueRequest;
  issued: IssuedCredential;
}

export interface ProviderTap {
  readonly issued: TappedIssue[];
  /** Runs after each real issuance, before the broker sees the result (inject a fault here). */
  afterIssue: ((tapped: TappedIssue) => Promise<void> | void) | null;
  /** The real (undecorated) provider of a kind, to act as the upstream call of a broker that then died. */
  real(kind: string): CredentialProvider;
  decorate(providers: CredentialProvider[]): CredentialProvider[];
}

/** Wraps real providers: every issuance is recorded, and `afterIssue` may stall Redis or delay the answer. */
export function createProviderTap(): ProviderTap {
  const reals = new Map<string, CredentialProvider>();
  const tap: ProviderTap = {
    issued: [],
    afterIssue: null,
    real(kind) {
      const provider = reals.get(kind);
      if (!provider) throw new Error(`no ${kind} provider was decorated`);
      return provider;
    },
    decorate: (providers) =>
      providers.map((provider): CredentialProvider => {
        reals.set(provider.kind, provider);
        return delegateTo(provider, {
          async issue(request) {
            const issued = await provider.issue(request);
            const tapped = { request, issued };
            tap.issued.push(tapped);
            await tap.afterIssue?.(tapped);
            return issued;
          },
        });
      }),
  };
  return tap;
}
