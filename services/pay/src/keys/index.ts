/**
 * Opens the key provider that configuration names (`MPAY_KEK_PROVIDER`, DESIGN.md "Key providers").
 * Callers depend on the KeyProvider interface only, never on one implementation.
 */
import { join } from "node:path";
import { openDevKeyProvider } from "./dev-provider.ts";
import { KeyProviderError } from "./provider.ts";
import type { KeyProvider, KeyProviderKind } from "./provider.ts";

export { KeyProviderError } from "./provider.ts";
export type { KeyProvider, KeyProviderErrorCode, KeyProviderKind, KeyPurpose } from "./provider.ts";
export type { DevKeyProvider } from "./dev-provider.ts";

export const DEV_KEY_FILE_NAME = "dev-keys.json";

export interface KeyProviderConfig {
  kind: KeyProviderKind;
  /** The service's data folder; the dev key file lives in it. */
  dataDir: string;
  log?: (msg: string) => void;
}

export async function openKeyProvider(config: KeyProviderConfig): Promise<KeyProvider> {
  switch (config.kind) {
    case "dev":
      return openDevKeyProvider({ keyFile: join(config.dataDir, DEV_KEY_FILE_NAME), log: config.log });
    // The HSM (SoftHSM2 in development) and the M-of-N custodian providers come with a later issue; until then
    // a server configured for them must refuse to start rather than fall back to the dev key file.
    case "pkcs11":
    case "shamir":
      throw new KeyProviderError("provider_misconfigured", `key provider "${config.kind}" is not available yet; use "dev" for now`);
    default: {
      const kind: never = config.kind; // configuration comes from the environment: fail loudly on a typo
      throw new KeyProviderError("provider_misconfigured", `unknown key provider "${String(kind)}"`);
    }
  }
}
