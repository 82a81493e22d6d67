/**
 * Opens the key provider that configuration names (`MPAY_KEK_PROVIDER`, DESIGN.md "Key providers").
 * Callers depend on the KeyProvider interface only, never on one implementation.
 */
import { join } from "node:path";
import type { Db } from "../db/client.ts";
import { openDevKeyProvider } from "./dev/dev-provider.ts";
import { openPkcs11KeyProvider } from "./pkcs11/pkcs11-provider.ts";
import { DEFAULT_PKCS11_LIBRARY, DEFAULT_PKCS11_TOKEN_LABEL, type Pkcs11Settings } from "./pkcs11/pkcs11-token.ts";
import { KeyProviderError } from "./provider.ts";
import type { KeyProvider, KeyProviderKind } from "./provider.ts";
import { openShamirKeyProvider } from "./shamir/shamir-provider.ts";

export { KeyProviderError } from "./provider.ts";
export type {
  KeyProvider,
  KeyProviderErrorCode,
  KeyProviderKind,
  KeyProviderStatus,
  KeyPurpose,
  ShareUnsealer,
  UnsealProgress,
} from "./provider.ts";
export type { DevKeyProvider } from "./dev/dev-provider.ts";
export type { Pkcs11KeyProvider } from "./pkcs11/pkcs11-provider.ts";
export type { ShamirKeyProvider } from "./shamir/shamir-provider.ts";
export type { Pkcs11Settings } from "./pkcs11/pkcs11-token.ts";

export const DEV_KEY_FILE_NAME = "dev-keys.json";

export const DEFAULT_PKCS11_SETTINGS: Pkcs11Settings = {
  library: DEFAULT_PKCS11_LIBRARY,
  slot: undefined,
  tokenLabel: DEFAULT_PKCS11_TOKEN_LABEL,
  pin: undefined,
};

export interface KeyProviderConfig {
  kind: KeyProviderKind;
  /** The service's data folder; the dev key file lives in it. */
  dataDir: string;
  /** The shared database: the current key version (all kinds) and the shamir vault's custody and keyring. */
  db: Db;
  pkcs11?: Pkcs11Settings;
  log?: (msg: string) => void;
}

export async function openKeyProvider(config: KeyProviderConfig): Promise<KeyProvider> {
  switch (config.kind) {
    case "dev":
      return openDevKeyProvider({ keyFile: join(config.dataDir, DEV_KEY_FILE_NAME), db: config.db, log: config.log });
    case "pkcs11":
      return openPkcs11KeyProvider(config.pkcs11 ?? DEFAULT_PKCS11_SETTINGS, config.db);
    case "shamir":
      return openShamirKeyProvider(config.db, config.log);
    default: {
      const kind: never = config.kind; // configuration comes from the environment: fail loudly on a typo
      throw new KeyProviderError("provider_misconfigured", `unknown key provider "${String(kind)}"`);
    }
  }
}
