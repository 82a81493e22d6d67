/** Changes waiting to take effect (a new device, a recovery, a PIN reset): every device shows them, a PIN proof stops them. */
import { z } from "zod";
import { listOf } from "./common.ts";
import { pinProofSchema } from "./pin.ts";

/**
 * A change waiting to take effect that the payer must be able to see and stop (DESIGN.md "the power order"): a new
 * device, a recovery (which revokes the payer's other devices when it takes effect) or a PIN reset. Each is
 * announced in the messenger; a PIN proof cancels it.
 */
export const pendingChangeViewSchema = z.object({
  id: z.string(),
  object: z.literal("pending_change"),
  kind: z.enum(["device", "recovery", "pin_reset"]),
  activatesAt: z.string(),
  /** The device waiting (a new device or a recovery's), or the device that asked for a PIN reset. */
  deviceId: z.string(),
  deviceName: z.string(),
  /** What vouched for it: `device:<id>` (another device with the PIN) or `issuer:<id>` (the card's issuer). */
  requestedBy: z.string(),
  /** True for a recovery: when it takes effect, every other device of the payer is revoked. */
  revokesOtherDevices: z.boolean(),
  createdAt: z.string(),
});
export type PendingChangeView = z.infer<typeof pendingChangeViewSchema>;
export const pendingChangeListSchema = listOf(pendingChangeViewSchema);

/** A PIN proof for `cancel-device:<id>` (a device or recovery) or `cancel-pin-reset:<id>`. */
export const cancelPendingChangeRequestSchema = z.strictObject({ pin: pinProofSchema });
