/** Checks on merchant input that the schemas cannot express; each failure names its parameter and stable code. */
import { checkAmount, isCurrency, type Currency, type Mode, type MinorUnit } from "@mpay/protocol";
import { ApiError } from "../http/errors.ts";

export function requireCurrency(value: string): Currency {
  if (!isCurrency(value)) {
    throw new ApiError(
      "currency_unsupported",
      `Currency ${JSON.stringify(value.slice(0, 8))} is not supported; use an ISO 4217 code such as KRW or USD.`,
      "currency",
    );
  }
  return value;
}

export function requireAmount(value: unknown, currency: Currency, param = "amount"): MinorUnit {
  const check = checkAmount(value, currency);
  if (!check.ok) throw new ApiError(check.code, check.message, param);
  return check.amount;
}

// Angle brackets are refused rather than escaped: free text is shown to payers as text, and a merchant who sends
// markup has a bug worth hearing about. Control characters would garble receipts and logs.
const MARKUP = /[<>]/;
const CONTROL = /\p{Cc}/u;

export function requirePlainText(value: string, param: string, maxLength: number): string {
  const text = value.trim();
  if (!text) throw new ApiError("parameter_invalid", `${param} must not be empty.`, param);
  if (text.length > maxLength)
    throw new ApiError("parameter_invalid", `${param} must be at most ${maxLength} characters.`, param);
  if (MARKUP.test(text))
    throw new ApiError(
      "text_contains_markup",
      `${param} is shown to payers as plain text; it must not contain < or >.`,
      param,
    );
  if (CONTROL.test(text))
    throw new ApiError("parameter_invalid", `${param} must not contain control characters.`, param);
  return text;
}

/** returnUrl/cancelUrl must be on one of the merchant's registered origins (https in live mode): no open redirect. */
export function requireRegisteredUrl(value: string, param: string, allowedOrigins: string[], mode: Mode): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ApiError("parameter_invalid", `${param} must be an absolute URL.`, param);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:")
    throw new ApiError("parameter_invalid", `${param} must be an http(s) URL.`, param);
  if (mode === "live" && url.protocol !== "https:")
    throw new ApiError("parameter_invalid", `${param} must use https in live mode.`, param);
  if (url.username || url.password)
    throw new ApiError("parameter_invalid", `${param} must not contain credentials.`, param);
  if (!allowedOrigins.includes(url.origin)) {
    throw new ApiError(
      "url_not_registered",
      `${param} must be on one of your registered origins (${allowedOrigins.join(", ") || "none registered"}).`,
      param,
    );
  }
  return url.toString();
}
