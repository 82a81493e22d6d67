/**
 * Sign-in through the messenger (OpenID Connect code flow, run by the pay server) and the session's payer.
 *
 * The sign-in ends in the wallet, never on a page with a token (issue 9): the wallet starts it with the S256
 * challenge of a verifier it keeps (RFC 7636), the pay server's callback redirects the browser to the wallet's
 * landing page with a one-time sign-in code (`plc_…`), and the wallet exchanges that code with the verifier for the
 * session. A code seen in a URL, a log or a Referer is worth nothing without the verifier.
 */
import { z } from "zod";

export const payerViewSchema = z.object({
  id: z.string(),
  object: z.literal("payer"),
  displayName: z.string(),
  phoneNumber: z.string().nullable(),
  createdAt: z.string(),
});
export type PayerView = z.infer<typeof payerViewSchema>;

/** The wallet opens `authorizationUrl`, so it is a web address (never `javascript:` or a custom scheme). */
export const signInStartViewSchema = z.object({ authorizationUrl: z.url({ protocol: /^https?$/ }), state: z.string() });
export type SignInStartView = z.infer<typeof signInStartViewSchema>;

/** base64url of a SHA-256: 43 characters. */
export const SIGN_IN_CODE_CHALLENGE_PATTERN = /^[A-Za-z0-9_-]{43}$/;
/** RFC 7636 section 4.1: 43 to 128 unreserved characters. */
export const SIGN_IN_CODE_VERIFIER_PATTERN = /^[A-Za-z0-9._~-]{43,128}$/;
/** The one-time code the callback hands to the wallet's landing page: `plc_` and 43 base64url characters. */
export const SIGN_IN_CODE_PATTERN = /^plc_[A-Za-z0-9_-]{43}$/;

/** `POST /v1/payer/auth/start`: the S256 challenge of the verifier the wallet keeps until the exchange. */
export const signInStartRequestSchema = z.strictObject({
  codeChallenge: z
    .string()
    .regex(SIGN_IN_CODE_CHALLENGE_PATTERN, "codeChallenge is the base64url SHA-256 of the verifier (43 characters)"),
});
export type SignInStartRequest = z.infer<typeof signInStartRequestSchema>;

/** `POST /v1/payer/auth/exchange`: the code from the landing page's URL and the verifier of the start's challenge. */
export const signInExchangeRequestSchema = z.strictObject({
  code: z.string().max(64),
  codeVerifier: z.string().max(128),
});
export type SignInExchangeRequest = z.infer<typeof signInExchangeRequestSchema>;

/** The messenger's redirect back to the pay server. */
/**
 * OAuth's parameters are visible ASCII (RFC 6749 appendix A, VSCHAR): anything else (a NUL, which PostgreSQL
 * refuses in text, found by the fuzzer) is a malformed callback, answered like one, never looked up.
 */
const oauthParameter = (max: number) =>
  z
    .string()
    .max(max)
    .regex(/^[\x20-\x7e]*$/);

export const signInCallbackQuerySchema = z.object({
  code: oauthParameter(512).optional(),
  state: oauthParameter(128).optional(),
  iss: oauthParameter(512).optional(),
  error: oauthParameter(100).optional(),
});

export const payerSessionViewSchema = z.object({
  object: z.literal("payer_session"),
  sessionToken: z.string(),
  expiresAt: z.string(),
  payer: payerViewSchema,
});
export type PayerSessionView = z.infer<typeof payerSessionViewSchema>;
