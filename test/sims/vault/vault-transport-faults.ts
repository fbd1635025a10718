import { VaultApiError, VaultUnreachableError } from "../../../providers/vault/vault-errors.js";
import type { VaultTransport } from "../../../providers/vault/vault-transport.js";
import { PERMISSION_DENIED } from "./vault-sim-wire.js";

/**
 * Faults injected at the provider's transport seam, for running against a real Vault (which cannot be told to
 * fail): revocation calls fail as a dropped connection would, or as a policy without revoke rights would.
 */
export interface TransportFaults {
  /** The next N revocation calls fail with a connection reset. */
  resetRevokes: number;
  /** Revocation calls are denied (403 permission denied) while true. */
  denyRevokes: boolean;
}

const REVOKE_PATHS = new Set(["sys/leases/revoke", "auth/token/revoke-accessor"]);

export function withTransportFaults(faults: TransportFaults) {
  return (transport: VaultTransport): VaultTransport => ({
    close: () => transport.close(),
    async send(call) {
      if (REVOKE_PATHS.has(call.path)) {
        if (faults.denyRevokes) throw new VaultApiError(403, [PERMISSION_DENIED], call.path);
        if (faults.resetRevokes > 0) {
          faults.resetRevokes -= 1;
          throw new VaultUnreachableError("ECONNRESET", call.path);
        }
      }
      return transport.send(call);
    },
  });
}
