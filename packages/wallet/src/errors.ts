/**
 * One error class for the wallet SDK, with a typed `code` to branch on (STYLE.md, "a single error class with typed
 * kinds"). Messages name the likely cause and never carry a secret: no PIN, no key material, no OPAQUE message and
 * no `cause` from a library that might have seen one.
 */
export const WALLET_ERROR_CODES = [
  // payment PIN
  "pin_format_invalid",
  "pin_incorrect",
  "pin_state_used",
  "opaque_message_invalid",
  "challenge_id_invalid",
  // what the device signs
  "terms_invalid",
  "terms_expired",
  "terms_not_yet_valid",
  "terms_lifetime_too_long",
  "statement_invalid",
  // keys and their store
  "device_key_exists",
  "device_key_invalid",
  "key_extractable",
  "key_not_exportable",
  "key_algorithm_unsupported",
  "key_store_secret_invalid",
  "key_store_unreadable",
  "key_store_unavailable",
] as const;

export type WalletErrorCode = (typeof WALLET_ERROR_CODES)[number];

export class WalletError extends Error {
  override readonly name = "WalletError";
  readonly code: WalletErrorCode;

  constructor(code: WalletErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

export function isWalletError(value: unknown, code?: WalletErrorCode): value is WalletError {
  return value instanceof WalletError && (code === undefined || value.code === code);
}
