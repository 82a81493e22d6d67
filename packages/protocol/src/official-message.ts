/**
 * Messages from an official account (MPay's security notices, later its payment requests and receipts) to one
 * messenger account: what the sender posts to the messenger, and what the messenger serves to the account's
 * sessions. Defined once, so the pay server's sender and the messenger's validation cannot drift apart.
 *
 * A message is text with at most three buttons, and optionally its facts as `params` (a flat map of short strings
 * and numbers) that the sender's own client renders in the reader's language (MPay's: announcements.ts). The text
 * stays the message for any other client and for messages stored before `params` existed; the messenger keeps both
 * and reads neither. A button carries an `action` that the messenger app hands to the
 * sender's own handler (`mpay:…` to the wallet), never a web link: a notice that could open any URL would be a
 * phishing channel (the messenger also refuses actions outside the sender's own scheme).
 */
import { z } from "zod";

export const OFFICIAL_MESSAGE_LIMITS = { text: 1000, actions: 3, label: 40, action: 200 } as const;

// C0/C1 controls and bidi overrides would let a message hide or reorder what the reader sees. Text may keep line breaks.
export const CONTROLS_BUT_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
export const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

/** `<scheme>:<path>`, e.g. `mpay:cancel-pending-change/dev_…`: a lower-case scheme and URL-safe characters. */
export const OFFICIAL_ACTION_PATTERN = /^[a-z][a-z0-9-]{0,19}:[A-Za-z0-9._~/-]{1,180}$/;
/** The messenger's account ids (OpenID Connect subjects): `acct_` and 26 Crockford base32 characters. */
export const MESSENGER_ACCOUNT_PATTERN = /^acct_[0-9A-HJKMNP-TV-Z]{26}$/;
/** The sender's id of the message, its idempotency key (the pay server's `ann_…`). */
export const OFFICIAL_MESSAGE_ID_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;
export const OFFICIAL_MESSAGE_KIND_PATTERN = /^[a-z][a-z0-9_]{0,39}$/;
export const OFFICIAL_PARAMS_LIMITS = { keys: 12, value: 200 } as const;
export const OFFICIAL_PARAM_KEY_PATTERN = /^[a-z][A-Za-z0-9]{0,39}$/;

/** A message's facts for its sender's client: `{ deviceName: "Pixel 9", activatesAt: "2026-12-04T06:05:00.000Z" }`. */
export const officialParamsSchema = z
  .record(
    z.string().regex(OFFICIAL_PARAM_KEY_PATTERN, "params keys must be camelCase letters and digits"),
    z.union([
      z
        .string()
        .max(OFFICIAL_PARAMS_LIMITS.value)
        .refine((value) => !CONTROLS.test(value), "params values must not contain control characters"),
      z.number().finite(),
    ]),
  )
  .refine((params) => Object.keys(params).length <= OFFICIAL_PARAMS_LIMITS.keys, "params has too many keys");
export type OfficialParams = z.infer<typeof officialParamsSchema>;

export const officialActionSchema = z.strictObject({
  label: z
    .string()
    .min(1)
    .max(OFFICIAL_MESSAGE_LIMITS.label)
    .refine((value) => !CONTROLS.test(value), "label must not contain control characters"),
  action: z
    .string()
    .max(OFFICIAL_MESSAGE_LIMITS.action)
    .regex(OFFICIAL_ACTION_PATTERN, "action must look like scheme:path"),
});
export type OfficialAction = z.infer<typeof officialActionSchema>;

/** `POST /api/official/{account}/messages`: what the sender posts (idempotent on `id`). */
export const officialMessageInputSchema = z.strictObject({
  id: z.string().regex(OFFICIAL_MESSAGE_ID_PATTERN, "id must be 8 to 64 characters of A-Z, a-z, 0-9, _ and -"),
  to: z.string().regex(MESSENGER_ACCOUNT_PATTERN, "to must be a messenger account id (acct_…)"),
  kind: z.string().regex(OFFICIAL_MESSAGE_KIND_PATTERN, "kind must be lower-case letters, digits and _"),
  text: z
    .string()
    .min(1)
    .max(OFFICIAL_MESSAGE_LIMITS.text)
    .refine(
      (value) => !CONTROLS_BUT_NEWLINE.test(value),
      "text must not contain control characters other than line breaks",
    ),
  actions: z.array(officialActionSchema).max(OFFICIAL_MESSAGE_LIMITS.actions).optional(),
  params: officialParamsSchema.optional(),
  /** When the sender made it (ISO 8601, UTC). */
  createdAt: z.iso.datetime(),
});
export type OfficialMessageInput = z.input<typeof officialMessageInputSchema>;

/** A message as the messenger answers it, to the sender and to the account's sessions. */
export const officialMessageSchema = z.object({
  id: z.string(),
  object: z.literal("message"),
  from: z.object({ account: z.string(), name: z.string() }),
  kind: z.string(),
  text: z.string(),
  actions: z.array(officialActionSchema),
  /** Absent on a message sent without them (and on every message stored before they existed). */
  params: officialParamsSchema.optional(),
  createdAt: z.string(),
  /** When the messenger stored it; the account's list is in this order. */
  receivedAt: z.string(),
  readAt: z.string().nullable(),
});
export type OfficialMessage = z.infer<typeof officialMessageSchema>;
