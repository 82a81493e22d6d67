/**
 * A merchant's shared webhook signing secret (Standard Webhooks' `whsec_` and 32 random bytes in base64), made
 * with the merchant's keys; webhooks/signing.ts signs with it.
 */
import { randomBytes } from "node:crypto";

export const WEBHOOK_SECRET_PREFIX = "whsec_";

export function generateWebhookSecret(): string {
  return WEBHOOK_SECRET_PREFIX + randomBytes(32).toString("base64");
}
