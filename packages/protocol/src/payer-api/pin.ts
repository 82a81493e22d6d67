/** The payment PIN over OPAQUE (RFC 9807): status, registration, logins and their proofs, resets with the card. */
import { z } from "zod";
import {
  deviceStatementSchema,
  issuerJweSchema,
  oneTimeCodeSchema,
  opaqueMessageSchema,
  verificationStartedSchema,
} from "./common.ts";

/**
 * What a PIN login proves the PIN for: a check, a change, one payment's approval, adding a passkey, or one security
 * change named with its target — binding a device (`bind-device:<key thumbprint>`), revoking another
 * (`revoke-device:<id>`), cancelling a pending binding or recovery (`cancel-device:<id>`) or PIN reset
 * (`cancel-pin-reset:<id>`), finishing a recovery at once (`recovery:<id>`). A proof for one target is worthless
 * for another.
 */
export type PinLoginPurpose =
  | "pin-check"
  | "pin-change"
  | "add-passkey"
  | `approval:${string}`
  | `bind-device:${string}`
  | `revoke-device:${string}`
  | `cancel-device:${string}`
  | `cancel-pin-reset:${string}`
  | `recovery:${string}`;

/** The purposes a login may name on the wire (the id part is a plain identifier). */
export const PIN_LOGIN_PURPOSE_PATTERN =
  /^(pin-check|pin-change|add-passkey|(approval|bind-device|revoke-device|cancel-device|cancel-pin-reset|recovery):[A-Za-z0-9_-]{1,64})$/;

/**
 * The id `POST /v1/payer/pin/login` hands out (`pl_` and base64url): only its characters are taken, so a NUL byte
 * no longer reaches PostgreSQL and answers 500 (found by drill/fuzz.ts, issue 12); an unknown id stays
 * pin_login_invalid.
 */
const pinLoginIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "not a PIN login id");

/** A finished OPAQUE login sent with a security change: the proof that the payer knows the PIN, for that change. */
export const pinProofSchema = z.strictObject({
  loginId: pinLoginIdSchema,
  finishLoginRequest: opaqueMessageSchema,
});
export type PinProofInput = z.infer<typeof pinProofSchema>;

export const pinStatusViewSchema = z.object({
  object: z.literal("pin"),
  set: z.boolean(),
  locked: z.boolean(),
  triesLeft: z.number().int(),
});
export type PinStatusView = z.infer<typeof pinStatusViewSchema>;

/** An OPAQUE registration request; the answer is the server's registration response (nothing is stored yet). */
export const pinRegistrationRequestSchema = z.strictObject({ registrationRequest: opaqueMessageSchema });
export const pinRegistrationViewSchema = z.object({ registrationResponse: z.string() });

/** The first PIN: its registration record and an active device's `set-pin` statement. */
export const setPinRequestSchema = z.strictObject({
  registrationRecord: opaqueMessageSchema,
  deviceSignature: deviceStatementSchema,
});
export type SetPinRequest = z.infer<typeof setPinRequestSchema>;

/** A new PIN: a finished `pin-change` login with the current PIN, and the new PIN's registration record. */
export const changePinRequestSchema = z.strictObject({
  loginId: pinLoginIdSchema,
  finishLoginRequest: opaqueMessageSchema,
  registrationRecord: opaqueMessageSchema,
});
export type ChangePinRequest = z.infer<typeof changePinRequestSchema>;

/** A PIN login's start (the server counts a try now). `previousPin` (recovery only): the PIN a change replaced. */
export const pinLoginRequestSchema = z.strictObject({
  startLoginRequest: opaqueMessageSchema,
  purpose: z.string().regex(PIN_LOGIN_PURPOSE_PATTERN),
  previousPin: z.literal(true).optional(),
});
export const pinLoginViewSchema = z.object({
  loginId: z.string(),
  loginResponse: z.string(),
  triesLeft: z.number().int(),
});
export type PinLoginView = z.infer<typeof pinLoginViewSchema>;

/** A `pin-check` login's finish (a payment's login is finished inside its approval instead). */
export const pinLoginFinishRequestSchema = z.strictObject({
  loginId: pinLoginIdSchema,
  finishLoginRequest: opaqueMessageSchema,
});
export type PinLoginFinishRequest = z.infer<typeof pinLoginFinishRequestSchema>;
export const pinCheckViewSchema = z.object({ object: z.literal("pin_check"), verified: z.literal(true) });

// --- a PIN reset: an active device and the issuer's cardholder check, then the waiting period ---

export const pinResetViewSchema = z.object({
  id: z.string(),
  object: z.literal("pin_reset"),
  status: z.enum(["verification_required", "pending", "applied", "canceled"]),
  activatesAt: z.string().nullable(),
  requestedBy: z.string(),
});
export type PinResetView = z.infer<typeof pinResetViewSchema>;

/**
 * `enrollment` is a JWE of one of the payer's cards (with this device's key) to its issuer; `deviceSignature` is
 * `{ purpose: "reset-pin", payerId, issuerId, recordHash, enrollmentHash, nonce }`.
 */
export const pinResetRequestSchema = z.strictObject({
  issuerId: z.string().max(32),
  enrollment: issuerJweSchema,
  registrationRecord: opaqueMessageSchema,
  deviceSignature: deviceStatementSchema,
});
export type PinResetRequest = z.infer<typeof pinResetRequestSchema>;
export const pinResetStartedViewSchema = verificationStartedSchema("pin_reset").extend({ reset: pinResetViewSchema });
export type PinResetStartedView = z.infer<typeof pinResetStartedViewSchema>;

export const pinResetVerifyRequestSchema = z.strictObject({ code: oneTimeCodeSchema });
