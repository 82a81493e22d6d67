/** Pieces every resource of the payer API shares: the list envelope, the error answer and the common fields. */
import { z } from "zod";

/** A list answer: `{ object: "list", data, hasMore }`. The payer's lists are short and come whole (`hasMore` false). */
export const listOf = <T extends z.ZodType>(item: T) =>
  z.object({ object: z.literal("list"), data: z.array(item), hasMore: z.boolean() });

/** Every error answer, on the payer's routes as on the merchant's (`ApiErrorBody`). */
export const apiErrorAnswerSchema = z.object({
  error: z.object({
    type: z.string(),
    code: z.string(),
    message: z.string(),
    param: z.string().optional(),
    requestId: z.string().optional(),
  }),
});

/** A body that says nothing (Fastify hands a missing body over as null, so it may be left out). */
export const emptyRequestSchema = z.strictObject({}).nullish();

/** An OPAQUE message (RFC 9807), base64url: the PIN itself never travels, only these. */
export const opaqueMessageSchema = z
  .string()
  .min(1)
  .max(1024)
  .regex(/^[A-Za-z0-9_-]+$/, "not a base64url OPAQUE message");

/** A device statement: a compact JWS of one of the payer's devices (`typ: mpay-device+jws`). */
export const deviceStatementSchema = z.string().max(4096);

/** A JWE the wallet made for a card issuer, relayed as it is (the issuer checks it; the pay server cannot open it). */
export const issuerJweSchema = z.string().max(16_384);

/** The one-time code a card issuer texted to the cardholder's phone. */
export const oneTimeCodeSchema = z.string().regex(/^\d{6}$/, "the code is 6 digits");

/** A device's public key (ECDSA P-256), as the wallet sends it to bind the device. */
export const devicePublicJwkSchema = z.strictObject({
  kty: z.literal("EC"),
  crv: z.literal("P-256"),
  x: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  y: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
});

/** The started half of a check at a card issuer: the issuer texted a code to the phone on file. */
export const verificationStartedSchema = <O extends string>(object: O) =>
  z.object({
    id: z.string(),
    object: z.literal(object),
    status: z.literal("verification_required"),
    codeSentTo: z.string(),
    expiresAt: z.string(),
  });
