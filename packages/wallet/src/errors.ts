/**
 * The wallet SDK's errors, each with a typed `code` to branch on (STYLE.md, "a single error class with typed
 * kinds"): `WalletError` for what the device itself finds (a malformed PIN, a wrong PIN, terms it will not sign),
 * `PayApiError` for what the pay server answered (its `error.code`, message and HTTP status, as stripe-node's
 * errors carry them). Messages name the likely cause and never carry a secret: no PIN, no key material, no OPAQUE
 * message, no session token, no request body and no `cause` from a library that might have seen one.
 */
import type { ErrorCode } from "@mpay/protocol";

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
  "terms_mismatch",
  "approval_declined",
  // keys and their store
  "device_key_exists",
  "device_key_invalid",
  "device_key_missing",
  "device_key_id_invalid",
  "key_extractable",
  "key_not_exportable",
  "key_algorithm_unsupported",
  "key_store_secret_invalid",
  "key_store_unreadable",
  "key_store_unavailable",
  // cards: issuers, shares, sealed records
  "card_details_invalid",
  "issuer_not_trusted",
  "issuer_not_found",
  "card_not_on_device",
  "card_record_invalid",
  "release_invalid",
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

/**
 * Codes the pay client gives when there is no MPay error answer to report: the server could not be reached, did
 * not answer in time, or answered something that is not what the route documents (a proxy's HTML page, say).
 */
export const PAY_CLIENT_ERROR_CODES = [
  "pay_server_unreachable",
  "pay_server_timeout",
  "pay_server_answer_invalid",
] as const;
export type PayClientErrorCode = (typeof PAY_CLIENT_ERROR_CODES)[number];

/**
 * An error answer of the pay server (`{ error: { type, code, message, param?, requestId? } }`), or one of the
 * client's own codes above. `code` is the server's stable code (`ErrorCode` of @mpay/protocol); a newer server may
 * answer a code this SDK does not list yet, so it is typed open. It carries what the server said and nothing of
 * the request: no body, no session token, no OPAQUE message, no `cause`.
 */
export class PayApiError extends Error {
  override readonly name = "PayApiError";
  /** The server's error type (`invalid_request_error`, `authentication_error`, …), or `connection_error`. */
  readonly type: string;
  readonly code: ErrorCode | PayClientErrorCode | (string & {});
  /** The HTTP status; undefined when no answer arrived. */
  readonly statusCode: number | undefined;
  /** The server's request id (`request-id`), to quote to MPay's support. */
  readonly requestId: string | undefined;
  /** The request field the error is about, when the server named one. */
  readonly param: string | undefined;

  constructor(init: {
    type: string;
    code: string;
    message: string;
    statusCode?: number | undefined;
    requestId?: string | undefined;
    param?: string | undefined;
  }) {
    super(init.message);
    this.type = init.type;
    this.code = init.code;
    this.statusCode = init.statusCode;
    this.requestId = init.requestId;
    this.param = init.param;
  }
}

export function isPayApiError(value: unknown, code?: ErrorCode | PayClientErrorCode): value is PayApiError {
  return value instanceof PayApiError && (code === undefined || value.code === code);
}
