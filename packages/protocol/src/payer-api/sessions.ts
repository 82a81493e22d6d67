/** Sign-in through the messenger (OpenID Connect code flow, run by the pay server) and the session's payer. */
import { z } from "zod";

export const payerViewSchema = z.object({
  id: z.string(),
  object: z.literal("payer"),
  displayName: z.string(),
  phoneNumber: z.string().nullable(),
  createdAt: z.string(),
});
export type PayerView = z.infer<typeof payerViewSchema>;

/** The wallet opens `authorizationUrl`, so it is a web address (never `javascript:` or a custom scheme). */
export const signInStartViewSchema = z.object({ authorizationUrl: z.url({ protocol: /^https?$/ }), state: z.string() });
export type SignInStartView = z.infer<typeof signInStartViewSchema>;

/** The messenger's redirect back to the pay server. */
export const signInCallbackQuerySchema = z.object({
  code: z.string().max(512).optional(),
  state: z.string().max(128).optional(),
  iss: z.string().max(512).optional(),
  error: z.string().max(100).optional(),
});

export const payerSessionViewSchema = z.object({
  object: z.literal("payer_session"),
  sessionToken: z.string(),
  expiresAt: z.string(),
  payer: payerViewSchema,
});
export type PayerSessionView = z.infer<typeof payerSessionViewSchema>;
