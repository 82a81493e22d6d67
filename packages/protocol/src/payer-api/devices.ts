/** The payer's devices: binding (the power order decides what it needs), revoking, cancelling, statement nonces. */
import { z } from "zod";
import { deviceStatementSchema, devicePublicJwkSchema, listOf } from "./common.ts";
import { pinProofSchema } from "./pin.ts";

export const deviceViewSchema = z.object({
  id: z.string(),
  object: z.literal("device"),
  name: z.string(),
  /** The device key's RFC 7638 thumbprint: compare with `DeviceKey.kid` to find this device. */
  keyThumbprint: z.string(),
  status: z.enum(["pending", "active", "revoked", "canceled"]),
  /** When a pending device may start to pay (the end of its waiting period). */
  activatesAt: z.string(),
  /** `first-sign-in`, `device:<id>` of the device that approved it (with the PIN), or `issuer:<id>[+pin]` (a recovery). */
  approvedBy: z.string(),
  createdAt: z.string(),
});
export type DeviceView = z.infer<typeof deviceViewSchema>;
export const deviceListSchema = listOf(deviceViewSchema);

/** The first device needs nothing more; any later one an active device's `bind-device` statement and a PIN proof. */
export const bindDeviceRequestSchema = z.strictObject({
  publicKeyJwk: devicePublicJwkSchema,
  name: z.string().max(60),
  approval: deviceStatementSchema.optional(),
  pin: pinProofSchema.optional(),
});
export type BindDeviceRequest = z.infer<typeof bindDeviceRequestSchema>;

/** The device's own `revoke-device` statement, or another active device's with a PIN proof. */
export const revokeDeviceRequestSchema = z
  .strictObject({ signature: deviceStatementSchema.optional(), pin: pinProofSchema.optional() })
  .nullish();
export type RevokeDeviceRequest = NonNullable<z.infer<typeof revokeDeviceRequestSchema>>;

/** A PIN proof, or the waiting device's own `cancel-device` statement. */
export const cancelDeviceRequestSchema = z.strictObject({
  signature: deviceStatementSchema.optional(),
  pin: pinProofSchema.optional(),
});
export type CancelDeviceRequest = z.infer<typeof cancelDeviceRequestSchema>;

/** A single-use nonce for the next device statement (each statement spends one). */
export const statementNonceViewSchema = z.object({
  object: z.literal("statement_nonce"),
  nonce: z.string(),
  expiresAt: z.string(),
});
export type StatementNonceView = z.infer<typeof statementNonceViewSchema>;
