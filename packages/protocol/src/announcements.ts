/**
 * MPay's announcements as data (issue 9: Korean and English on every screen): the pay server sends each
 * announcement's kind and facts as an official message's `params`, and the messenger app writes the sentence in
 * the reader's language — amounts as the reader expects them (35,000원 / ₩35,000), times in the reader's zone.
 * The message's text stays the plain-text form for other clients and for messages stored before params existed.
 *
 * Facts only, never a secret: no code other than the checkout's pairing code (which the checkout shows too), no
 * token, key, PIN material or card number (a card is its brand and last four). Names are already cleaned by the
 * pay server (controls dropped, links and digit runs masked, cut short); a reader's app still shows them as text.
 * Dates are ISO 8601 in UTC; amounts are integer minor units of a currency MPay supports.
 */
import { z } from "zod";
import { CURRENCIES, isCurrency } from "./currency.ts";
import { CARD_BRANDS } from "./issuer.ts";
import { CONTROLS } from "./official-message.ts";
import { PAIRING_CODE_PATTERN } from "./payer-api/checkout.ts";

/** A cleaned name as the pay server sends it; "" when nothing was left of it (the reader's app says "no name"). */
export const ANNOUNCED_NAME_MAX = 60;
const name = z
  .string()
  .max(ANNOUNCED_NAME_MAX)
  .refine((value) => !CONTROLS.test(value), "a name must not contain control characters");
const instant = z.iso.datetime();

export const PENDING_CHANGES = ["device", "recovery", "pin_reset", "card"] as const;
export type PendingChange = (typeof PENDING_CHANGES)[number];

export const announcementParamsSchemas = {
  payment_request: z
    .strictObject({
      merchantName: name,
      itemName: name,
      amount: z.number().int().positive(),
      currency: z.string().refine((code): boolean => isCurrency(code), "currency must be one MPay supports"),
      pairingCode: z.string().regex(PAIRING_CODE_PATTERN),
    })
    .refine(
      (p) => isCurrency(p.currency) && p.amount <= CURRENCIES[p.currency].maxAmount,
      "amount is larger than the currency allows",
    ),
  payment_receipt: z.strictObject({
    merchantName: name,
    itemName: name,
    amount: z.number().int().positive(),
    currency: z.string().refine((code): boolean => isCurrency(code), "currency must be one MPay supports"),
    brand: z.enum(CARD_BRANDS),
    last4: z.string().regex(/^\d{4}$/),
  }),
  payment_refunded: z.strictObject({
    merchantName: name,
    amount: z.number().int().positive(),
    currency: z.string().refine((code): boolean => isCurrency(code), "currency must be one MPay supports"),
    brand: z.enum(CARD_BRANDS),
    last4: z.string().regex(/^\d{4}$/),
  }),
  device_pending: z.strictObject({ deviceName: name, activatesAt: instant }),
  recovery_pending: z.strictObject({ deviceName: name, activatesAt: instant }),
  recovery_completed: z.strictObject({ deviceName: name, revokedDevices: z.number().int().nonnegative() }),
  pin_reset_pending: z.strictObject({ activatesAt: instant }),
  pin_reset_applied: z.strictObject({}),
  pin_changed: z.strictObject({ previousPinUntil: instant }),
  card_enrolled: z.strictObject({
    brand: z.enum(CARD_BRANDS),
    last4: z.string().regex(/^\d{4}$/),
    deviceName: name,
  }),
  device_revoked: z.strictObject({ deviceName: name }),
  change_canceled: z.strictObject({ change: z.enum(PENDING_CHANGES) }),
} as const;

export type AnnouncementKindName = keyof typeof announcementParamsSchemas;
export type AnnouncementParams<K extends AnnouncementKindName = AnnouncementKindName> = z.infer<
  (typeof announcementParamsSchemas)[K]
>;

/** An announcement a reader's app can render: its kind and checked facts, one variant per kind. */
export type AnnouncementView = {
  [K in AnnouncementKindName]: { kind: K; params: AnnouncementParams<K> };
}[AnnouncementKindName];

export const ANNOUNCEMENT_KINDS = Object.keys(announcementParamsSchemas) as AnnouncementKindName[];

export function isAnnouncementKind(kind: string): kind is AnnouncementKindName {
  return Object.hasOwn(announcementParamsSchemas, kind);
}

/**
 * The message's announcement if its kind is one this version knows and its params fit that kind; null otherwise
 * (an older message without params, or a newer kind), and the reader's app shows the message's text instead.
 */
export function announcementOf(message: { kind: string; params?: unknown }): AnnouncementView | null {
  if (message.params === undefined || !isAnnouncementKind(message.kind)) return null;
  const parsed = announcementParamsSchemas[message.kind].safeParse(message.params);
  return parsed.success ? ({ kind: message.kind, params: parsed.data } as AnnouncementView) : null;
}
