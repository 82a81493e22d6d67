/**
 * One plain sentence for each error a payer can meet, by its stable code (never the server's message, which is
 * written for developers). Unknown codes get a general sentence with the code, for support.
 */
import { isPayApiError, isWalletError } from "@mpay/wallet";
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
]);

/** The error's stable code, when it has one. */
export function errorCode(error: unknown): string | undefined {
  if (isPayApiError(error) || isWalletError(error)) return error.code;
  if (error instanceof DOMException && error.name === "NotAllowedError") return "webauthn_not_allowed";
  return undefined;
}

export function errorMessage(error: unknown, t: TFunction<"wallet">): string {
  const code = errorCode(error);
  if (code === "webauthn_not_allowed") return t("errors.webauthn_not_allowed");
  if (code !== undefined && KNOWN.has(code)) return t(`errors.${code}`);
  return t("errors.unknown", { code: code ?? "client_error" });
}
