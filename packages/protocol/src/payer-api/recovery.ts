/** Recovery of a payer who lost a device (or all of them): a new device proves one of the payer's cards again. */
import { z } from "zod";
import { cardViewSchema } from "./cards.ts";
import { devicePublicJwkSchema, issuerJweSchema, oneTimeCodeSchema, verificationStartedSchema } from "./common.ts";
import { pinProofSchema } from "./pin.ts";

/** The enrollment JWE carries the new device's key; the issuer texts a code to the phone on file. */
export const deviceRecoveryRequestSchema = z.strictObject({
  issuerId: z.string().max(32),
  enrollment: issuerJweSchema,
  publicKeyJwk: devicePublicJwkSchema,
  name: z.string().max(60),
});
export type DeviceRecoveryRequest = z.infer<typeof deviceRecoveryRequestSchema>;
export const deviceRecoveryViewSchema = verificationStartedSchema("device_recovery");
export type DeviceRecoveryView = z.infer<typeof deviceRecoveryViewSchema>;

/** The issuer's code; with `pin` (a proof for `recovery:<id>`) the device is active at once and may revoke the others. */
export const deviceRecoveryVerifyRequestSchema = z.strictObject({
  code: oneTimeCodeSchema,
  pin: pinProofSchema.optional(),
  revokeOtherDevices: z.boolean().optional(),
});
export type DeviceRecoveryVerifyRequest = z.infer<typeof deviceRecoveryVerifyRequestSchema>;
export const recoveredDeviceViewSchema = z.object({
  deviceId: z.string(),
  status: z.string(),
  activatesAt: z.string(),
  card: cardViewSchema,
  revokedDevices: z.array(z.string()),
});
export type RecoveredDeviceView = z.infer<typeof recoveredDeviceViewSchema>;
