/**
 * One plain sentence for each error a payer can meet, by its stable code (never the server's message, which is
 * written for developers). Unknown codes get a general sentence with the code, for support.
 */
import { isPayApiError, isWalletError } from "@mpay/wallet";
import { WebAuthnError } from "@simplewebauthn/browser";
import type { TFunction } from "i18next";

const KNOWN = new Set([
  "pay_server_unreachable",
  "pay_server_timeout",
  "payer_session_invalid",
  "sign_in_invalid",
  "device_approval_required",
  "device_not_active",
  "device_limit_reached",
  "pin_locked",
  "pin_incorrect",
  "pin_not_set",
  "pin_already_set",
  "pin_reset_pending",
  "card_details_invalid",
  "issuer_not_found",
  "issuer_not_trusted",
  "card_enrollment_refused",
  "card_enrollment_locked",
  "card_enrollment_expired",
  "card_enrollment_rate_limited",
  "verification_code_invalid",
  "card_not_on_device",
  "payment_invalid_state",
  "payment_not_found",
  "resource_missing",
  "approval_challenge_expired",
  "terms_expired",
  "terms_mismatch",
  "issuer_unavailable",
  "vault_sealed",
  "rate_limited",
  "passkey_invalid",
  "passkey_user_verification_required",
  "passkey_counter_invalid",
  "passkey_limit_reached",
  "passkey_already_registered",
  "passkeys_unavailable",
  "webauthn_not_allowed",
  "webauthn_already_registered",
]);

/**
 * The error's stable code, when it has one. The browser's WebAuthn errors come wrapped by @simplewebauthn/browser
 * (a WebAuthnError that keeps the DOMException's name): NotAllowedError is a canceled ceremony or, as the spec
 * wants, a user verification that failed, told apart from nothing else on purpose (privacy); InvalidStateError at
 * registration is an authenticator that already holds a passkey of this payer.
 */
export function errorCode(error: unknown): string | undefined {
  if (isPayApiError(error) || isWalletError(error)) return error.code;
  if (error instanceof WebAuthnError && error.code === "ERROR_AUTHENTICATOR_PREVIOUSLY_REGISTERED")
    return "webauthn_already_registered";
  if ((error instanceof WebAuthnError || error instanceof DOMException) && error.name === "NotAllowedError")
    return "webauthn_not_allowed";
  return undefined;
}

export function errorMessage(error: unknown, t: TFunction<"wallet">): string {
  const code = errorCode(error);
  if (code !== undefined && KNOWN.has(code)) return t(`errors.${code}`);
  return t("errors.unknown", { code: code ?? "client_error" });
}
