/**
 * Error types and codes of the merchant API. Codes are stable: merchants branch on them, so a code is never
 * renamed or reused for another meaning. The HTTP status follows from the type (one map, as stripe-node does).
 */
export const ERROR_STATUS = {
  invalid_request_error: 400,
  /** Node's HTTP server waited too long for the request's headers or body. */
  request_timeout_error: 408,
  authentication_error: 401,
  permission_error: 403,
  not_found_error: 404,
  conflict_error: 409,
  payload_too_large_error: 413,
  rate_limit_error: 429,
  /** The request line and headers together are larger than the server reads (16 KiB). */
  header_too_large_error: 431,
  api_error: 500,
  service_unavailable_error: 503,
} as const;

export type ErrorType = keyof typeof ERROR_STATUS;

/** Every code the API can answer with, and its type. */
export const ERROR_CODES = {
  // request shape
  /** Not an HTTP request the server can read (framing, chunked encoding, the request line): refused before routing. */
  request_malformed: "invalid_request_error",
  /** The request line and headers are past 16 KiB: refused before routing. */
  headers_too_large: "header_too_large_error",
  request_timeout: "request_timeout_error",
  body_invalid_json: "invalid_request_error",
  body_too_large: "payload_too_large_error",
  parameter_missing: "invalid_request_error",
  parameter_invalid: "invalid_request_error",
  parameter_unknown: "invalid_request_error",
  amount_invalid: "invalid_request_error",
  amount_too_large: "invalid_request_error",
  currency_unsupported: "invalid_request_error",
  text_contains_markup: "invalid_request_error",
  url_not_registered: "invalid_request_error",
  webhook_url_invalid: "invalid_request_error",
  webhook_url_insecure: "invalid_request_error",
  webhook_url_private: "invalid_request_error",
  cursor_invalid: "invalid_request_error",
  // authentication
  api_key_missing: "authentication_error",
  api_key_invalid: "authentication_error",
  api_key_expired: "authentication_error",
  secret_key_required: "permission_error",
  sign_in_invalid: "authentication_error",
  payer_session_invalid: "authentication_error",
  device_signature_invalid: "authentication_error",
  device_limit_reached: "conflict_error",
  device_already_bound: "conflict_error",
  device_approval_required: "permission_error",
  device_not_active: "permission_error",
  pin_not_set: "conflict_error",
  pin_already_set: "conflict_error",
  pin_locked: "permission_error",
  pin_reset_pending: "conflict_error",
  /** A security change that the power order puts above a device's word: it needs a PIN proof for its purpose. */
  pin_proof_required: "permission_error",
  pin_reset_invalid: "conflict_error",
  pin_login_invalid: "authentication_error",
  opaque_message_invalid: "invalid_request_error",
  approval_challenge_used: "conflict_error",
  approval_challenge_expired: "conflict_error",
  approval_signature_invalid: "authentication_error",
  user_verification_required: "authentication_error",
  user_verification_invalid: "authentication_error",
  passkey_invalid: "authentication_error",
  passkey_user_verification_required: "authentication_error",
  passkey_counter_invalid: "authentication_error",
  passkey_challenge_invalid: "authentication_error",
  passkey_already_registered: "conflict_error",
  passkey_limit_reached: "conflict_error",
  passkey_not_active: "permission_error",
  /** The web app is at an IP address, where browsers allow no passkey: this server has passkeys off. */
  passkeys_unavailable: "conflict_error",
  live_mode_forbidden: "permission_error",
  // the merchant dashboard's users (merchant-users/)
  /** "Wrong email or password": the same answer for an unknown email, a wrong password and a disabled user. */
  sign_in_failed: "authentication_error",
  /** Too many sign-in attempts for this email within the window; wait and try again. */
  sign_in_locked: "rate_limit_error",
  /** The sign-in challenge (`dsc_…`) is unknown, used, or older than its 5 minutes: start again with the password. */
  sign_in_challenge_invalid: "authentication_error",
  /** The authenticator code is wrong, or was already used once. */
  totp_invalid: "authentication_error",
  /** The dashboard session (`mds_…`) is unknown, signed out, or past its idle or absolute lifetime. */
  dashboard_session_invalid: "authentication_error",
  /** A route for a signed-in dashboard user (staff, passkeys, me): an API key cannot call it. */
  dashboard_session_required: "permission_error",
  /** The dashboard user's role is below the one the route needs; the message names the role needed. */
  permission_denied: "permission_error",
  /** The merchant's last active owner cannot be demoted or disabled. */
  last_owner: "conflict_error",
  /** A dashboard user with this email already exists. */
  merchant_user_exists: "conflict_error",
  // the operator console's staff (staff/)
  /** The console session (`sts_…`) is missing, unknown, signed out, or past its idle or absolute lifetime. */
  staff_session_invalid: "authentication_error",
  /** A staff member with this email already exists. */
  staff_exists: "conflict_error",
  /** The merchant is suspended by the pay company: its API keys and dashboard sessions are refused. */
  merchant_suspended: "permission_error",
  // cards (the vault and the issuers)
  card_enrollment_refused: "invalid_request_error",
  card_enrollment_locked: "permission_error",
  card_enrollment_expired: "conflict_error",
  card_enrollment_rate_limited: "rate_limit_error",
  verification_code_invalid: "invalid_request_error",
  card_not_active: "conflict_error",
  card_records_invalid: "invalid_request_error",
  issuer_unknown: "invalid_request_error",
  jose_algorithm_refused: "invalid_request_error",
  release_key_invalid: "invalid_request_error",
  recovery_not_possible: "permission_error",
  // resources
  resource_missing: "not_found_error",
  /** A payment id the hosted checkout or the payer's view does not know (or may not show to this payer). */
  payment_not_found: "not_found_error",
  route_not_found: "not_found_error",
  // state
  payment_invalid_state: "conflict_error",
  /** The hosted checkout's push: the payment no longer awaits approval. */
  payment_not_pending: "conflict_error",
  /** Not a phone number in international format (E.164, separators allowed). */
  phone_number_invalid: "invalid_request_error",
  capture_amount_invalid: "invalid_request_error",
  refund_exceeds_captured: "conflict_error",
  /** The key was used before with another request, or for an answer that held a secret shown only once: final. */
  idempotency_key_reused: "conflict_error",
  /** The first request with this Idempotency-Key has not finished: retry shortly with the same key. */
  idempotency_key_in_progress: "conflict_error",
  idempotency_key_invalid: "invalid_request_error",
  delivery_not_retryable: "conflict_error",
  /** A test event to a disabled webhook endpoint: enable it again (create a new one) first. */
  webhook_endpoint_disabled: "conflict_error",
  // platform
  rate_limited: "rate_limit_error",
  /** Too many payment requests pushed to a phone number, from an address, or for one payment. */
  push_rate_limited: "rate_limit_error",
  vault_sealed: "service_unavailable_error",
  vault_not_initialized: "service_unavailable_error",
  vault_share_invalid: "invalid_request_error",
  vault_share_rejected: "invalid_request_error",
  /** A custodian share of a share set that `mpay vault rekey` replaced. */
  vault_share_retired: "invalid_request_error",
  vault_unseal_unsupported: "conflict_error",
  /** The audit log's newest signed head does not verify: nothing audited is done until an operator looks. */
  audit_head_invalid: "service_unavailable_error",
  messenger_unavailable: "service_unavailable_error",
  /** This server process is stopping: retry, and another (or this one, restarted) answers. */
  server_shutting_down: "service_unavailable_error",
  /** The database is failing over or went away for a moment: nothing was done that a retry with the same key redoes twice. */
  database_unavailable: "service_unavailable_error",
  /** The issuer could not be reached or did not answer: the outcome is settled later, never guessed. */
  issuer_unavailable: "service_unavailable_error",
  /** No PIN-statement key of this server holds a valid network certificate: issuers would refuse its statements. */
  statement_key_not_certified: "service_unavailable_error",
  /** `mpay statement-key install`: not a certificate of one of this server's statement keys, or not valid now. */
  statement_key_certificate_invalid: "invalid_request_error",
  internal_error: "api_error",
} as const satisfies Record<string, ErrorType>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The body of every error answer: `{ error: { type, code, message, param? } }`. */
export interface ApiErrorBody {
  error: { type: ErrorType; code: ErrorCode; message: string; param?: string; requestId?: string };
}

export function statusOf(code: ErrorCode): number {
  return ERROR_STATUS[ERROR_CODES[code]];
}
