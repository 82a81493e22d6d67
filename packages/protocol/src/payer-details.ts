/**
 * A payer's personal details (DESIGN.md "Split custody", point 6): kept only inside the sealed personal record
 * (opened on the device, never on the server), and shared with a merchant for one payment, with the payer's
 * consent, and only the fields that merchant asked for (`collect`).
 */
import { z } from "zod";

export const SHAREABLE_DETAILS = ["name", "email", "phone", "shipping"] as const;
export type ShareableDetail = (typeof SHAREABLE_DETAILS)[number];

/** Plain text: no markup, no control characters (it is shown to merchants' staff and printed on labels). */
const plain = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((v) => !/[<>\p{Cc}]/u.test(v), "plain text only");

export const shippingAddressSchema = z.strictObject({
  label: plain(40).optional(),
  recipient: plain(100),
  line1: plain(200),
  line2: plain(200).optional(),
  city: plain(100),
  postalCode: z.string().regex(/^[A-Za-z0-9 -]{2,12}$/),
  /** ISO 3166-1 alpha-2. */
  country: z.string().regex(/^[A-Z]{2}$/),
});
export type ShippingAddress = z.infer<typeof shippingAddressSchema>;

/** The personal record the wallet seals with each card. */
export const payerProfileSchema = z.strictObject({
  name: plain(100).optional(),
  email: z.email().max(254).optional(),
  phone: z
    .string()
    .regex(/^\+[1-9][0-9]{6,14}$/)
    .optional(),
  shippingAddresses: z.array(shippingAddressSchema).max(10).optional(),
});
export type PayerProfile = z.infer<typeof payerProfileSchema>;

/** What a payer shares with a merchant for one payment: one address, and only asked-for fields. */
export const sharedDetailsSchema = z.strictObject({
  name: plain(100).optional(),
  email: z.email().max(254).optional(),
  phone: z
    .string()
    .regex(/^\+[1-9][0-9]{6,14}$/)
    .optional(),
  shipping: shippingAddressSchema.optional(),
});
export type SharedDetails = z.infer<typeof sharedDetailsSchema>;
