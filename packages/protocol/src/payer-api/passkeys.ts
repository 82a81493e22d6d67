/**
 * The payer's passkeys, and the WebAuthn JSON the wallet sends (W3C WebAuthn Level 3 `RegistrationResponseJSON` and
 * `AuthenticationResponseJSON`, as `@simplewebauthn/browser` makes them), checked at the edge. Those objects are not
 * strict: browsers add fields as the standard grows (extension outputs above all); what is not listed here is
 * dropped, never passed on.
 */
import { z } from "zod";
import { deviceStatementSchema, listOf } from "./common.ts";

const base64url = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[A-Za-z0-9_-]+$/, "not base64url");

/** A credential id: at most 1023 bytes (WebAuthn §5.8.3), base64url. */
export const webAuthnCredentialIdSchema = base64url(1364);

const common = {
  id: webAuthnCredentialIdSchema,
  rawId: webAuthnCredentialIdSchema,
  type: z.literal("public-key"),
  authenticatorAttachment: z.enum(["platform", "cross-platform"]).optional(),
  clientExtensionResults: z.record(z.string(), z.unknown()),
};

export const webAuthnRegistrationResponseSchema = z.object({
  ...common,
  response: z.object({
    clientDataJSON: base64url(4096),
    attestationObject: base64url(8192),
    authenticatorData: base64url(4096).optional(),
    transports: z.array(z.string().max(32)).max(8).optional(),
    publicKeyAlgorithm: z.number().int().optional(),
    publicKey: base64url(2048).optional(),
  }),
});

export const webAuthnAuthenticationResponseSchema = z.object({
  ...common,
  response: z.object({
    clientDataJSON: base64url(4096),
    authenticatorData: base64url(4096),
    signature: base64url(1024),
    // Some browsers answer null for a credential that is not discoverable.
    userHandle: base64url(128)
      .nullish()
      .transform((v) => v ?? undefined),
  }),
});

/** The creation options the wallet hands to `startRegistration()` (PublicKeyCredentialCreationOptionsJSON). */
export const webAuthnCreationOptionsSchema = z.object({
  challenge: z.string(),
  rp: z.object({ id: z.string().optional(), name: z.string() }),
  user: z.object({ id: z.string(), name: z.string(), displayName: z.string() }),
  pubKeyCredParams: z.array(z.object({ alg: z.number().int(), type: z.literal("public-key") })),
  timeout: z.number().int().optional(),
  excludeCredentials: z
    .array(z.object({ id: z.string(), type: z.string(), transports: z.array(z.string()).optional() }))
    .optional(),
  authenticatorSelection: z
    .object({
      authenticatorAttachment: z.enum(["platform", "cross-platform"]).optional(),
      residentKey: z.enum(["discouraged", "preferred", "required"]).optional(),
      requireResidentKey: z.boolean().optional(),
      userVerification: z.enum(["discouraged", "preferred", "required"]).optional(),
    })
    .optional(),
  attestation: z.enum(["none", "indirect", "direct", "enterprise"]).optional(),
  hints: z.array(z.string()).optional(),
  extensions: z.object({ credProps: z.boolean().optional() }).optional(),
});
export type WebAuthnCreationOptions = z.infer<typeof webAuthnCreationOptionsSchema>;

/** The device's `add-passkey` statement and a finished PIN login for `add-passkey`. */
export const passkeyRegistrationOptionsRequestSchema = z.strictObject({
  deviceSignature: deviceStatementSchema,
  pin: z.strictObject({ loginId: z.string().max(64), finishLoginRequest: z.string().max(1024) }),
});
export type PasskeyRegistrationOptionsRequest = z.infer<typeof passkeyRegistrationOptionsRequestSchema>;

/** What `startRegistration()` made with the latest registration options. */
export const registerPasskeyRequestSchema = z.strictObject({ response: webAuthnRegistrationResponseSchema });

export const passkeyViewSchema = z.object({
  id: z.string(),
  object: z.literal("passkey"),
  /** The COSE public key (base64url): a wallet binds it at the issuer when it enrolls a card. */
  publicKey: z.string(),
  status: z.enum(["active", "revoked"]),
  deviceType: z.string(),
  backedUp: z.boolean(),
  transports: z.array(z.string()),
  createdAt: z.string(),
  revokedAt: z.string().nullable(),
});
export type PasskeyView = z.infer<typeof passkeyViewSchema>;
export const passkeyListSchema = listOf(passkeyViewSchema);
