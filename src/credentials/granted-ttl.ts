/**
 * DESIGN guarantee 1: granted TTL = min(request, profile max, policy max, task remaining, provider max).
 * When the provider cannot go that low (STS: 900 s), it issues its minimum and the broker revokes the
 * credential actively at task end; the response says so in `notes`.
 */
export interface TtlInputs {
  requestedSeconds: number | undefined;
  providerBounds: { min: number; max: number };
  policyMaxSeconds: number | undefined;
  taskRemainingSeconds: number;
}

export interface GrantedTtl {
  seconds: number;
  notes: string[];
}

export function grantTtl(inputs: TtlInputs): GrantedTtl {
  const { providerBounds } = inputs;
  const ceiling = Math.min(
    inputs.requestedSeconds ?? Number.POSITIVE_INFINITY,
    providerBounds.max,
    inputs.policyMaxSeconds ?? Number.POSITIVE_INFINITY,
    inputs.taskRemainingSeconds,
  );
  const seconds = Math.floor(ceiling);
  if (seconds >= providerBounds.min) return { seconds, notes: [] };
  return {
    seconds: providerBounds.min,
    notes: [
      `The provider's minimum lifetime is ${providerBounds.min} s, longer than the ${seconds} s allowed; ` +
        "the credential is revoked actively when the task ends.",
    ],
  };
}
