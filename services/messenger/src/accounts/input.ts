/**
 * What creating an account takes, validated once for every edge (JSON API, sign-up page, CLI) with zod.
 */
import { z } from "zod";
import { normalizePhoneNumber } from "@mpay/protocol";

// C0/C1 controls and bidi overrides: a display name is shown to other people, so it may not reorder or hide text.
const UNSAFE_TEXT = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 128;

export const accountInput = z.strictObject({
  phoneNumber: z
    .string()
    .max(32)
    .transform((value, context) => {
      const normalized = normalizePhoneNumber(value);
      if (!normalized) {
        context.addIssue({ code: "custom", message: "not an E.164 phone number" });
        return z.NEVER;
      }
      return normalized;
    }),
  displayName: z
    .string()
    .trim()
    .min(1, "displayName must not be empty")
    .max(64, "displayName must be at most 64 characters")
    .refine((value) => !UNSAFE_TEXT.test(value), "displayName must not contain control characters"),
  password: z
    .string()
    .min(PASSWORD_MIN, `password must be at least ${PASSWORD_MIN} characters`)
    .max(PASSWORD_MAX, `password must be at most ${PASSWORD_MAX} characters`),
});

export type AccountInput = z.output<typeof accountInput>;
