/**
 * What MPay announces to a payer, one type per kind, so a caller cannot forget a field the message needs
 * (DESIGN.md "Authentication without plugins": every pending change is announced before it takes effect).
 * The fields are facts for the text, never secrets: no code, token, key, PIN material or card number (a card is
 * its brand and last four).
 */
import type { CARD_BRANDS } from "@mpay/protocol";

export type CardBrand = (typeof CARD_BRANDS)[number];

/** A new device waits out the waiting period before it can pay. */
export interface DevicePending {
  kind: "device_pending";
  deviceId: string;
  deviceName: string;
  activatesAt: Date;
}

/** A recovery waits; at `activatesAt` it revokes every other device. */
export interface RecoveryPending {
  kind: "recovery_pending";
  /** What the payer cancels it by. */
  recoveryId: string;
  /** The device the recovery binds. */
  deviceName: string;
  activatesAt: Date;
}

/** A recovery took effect: the other devices were revoked. */
export interface RecoveryCompleted {
  kind: "recovery_completed";
  recoveryId: string;
  deviceName: string;
  revokedDevices: number;
}

/** A PIN reset waits out the waiting period. */
export interface PinResetPending {
  kind: "pin_reset_pending";
  resetId: string;
  activatesAt: Date;
}

/** A PIN reset took effect. */
export interface PinResetApplied {
  kind: "pin_reset_applied";
  resetId: string;
}

/**
 * The PIN was changed (with the current PIN). Not pending, but someone who saw the PIN on a stolen phone would
 * change it first: the payer learns of it while a recovery with the card and the old PIN still restores it.
 */
export interface PinChanged {
  kind: "pin_changed";
  /** Until when a recovery with the card and the PIN before the change takes the account back. */
  previousPinUntil: Date;
}

/** A card was enrolled on one of the payer's devices. */
export interface CardEnrolled {
  kind: "card_enrolled";
  cardId: string;
  brand: CardBrand;
  last4: string;
  deviceName: string;
}

/** A device was revoked and can no longer pay. */
export interface DeviceRevoked {
  kind: "device_revoked";
  deviceId: string;
  deviceName: string;
}

/** The change that was announced as pending will not happen. */
export interface ChangeCanceled {
  kind: "change_canceled";
  /** The id the pending change was announced with (device, recovery, PIN reset or card). */
  changeId: string;
  change: "device" | "recovery" | "pin_reset" | "card";
}

/**
 * A merchant's hosted checkout asks the payer to pay on the phone (issue 9): the payer typed their number at the
 * checkout. The pairing code is shown on the checkout too, so the payer sees the message is that payment's.
 */
export interface PaymentRequest {
  kind: "payment_request";
  paymentId: string;
  /** The merchant's registered display name. */
  merchantName: string;
  /** The merchant's text for the item (plain text, checked when the payment was made): cleaned and quoted. */
  itemName: string;
  /** Minor units of `currency`. */
  amount: number;
  currency: string;
  pairingCode: string;
}

/** The issuer approved a payment the payer approved: the receipt in the chat. */
export interface PaymentReceipt {
  kind: "payment_receipt";
  paymentId: string;
  /** The merchant's registered display name. */
  merchantName: string;
  itemName: string;
  /** Minor units of `currency`. */
  amount: number;
  currency: string;
  brand: CardBrand;
  last4: string;
}

/** The merchant refunded (part of) a payment the payer approved. */
export interface PaymentRefunded {
  kind: "payment_refunded";
  paymentId: string;
  merchantName: string;
  /** This refund's amount, minor units of `currency`. */
  amount: number;
  currency: string;
  brand: CardBrand;
  last4: string;
}

export type Announcement =
  | PaymentRequest
  | PaymentReceipt
  | PaymentRefunded
  | DevicePending
  | RecoveryPending
  | RecoveryCompleted
  | PinResetPending
  | PinResetApplied
  | PinChanged
  | CardEnrolled
  | DeviceRevoked
  | ChangeCanceled;
export type AnnouncementKind = Announcement["kind"];
