/**
 * Who a merchant request comes from, as the merchants context resolved its credential: what the HTTP layer needs
 * to scope a request (routes, idempotency keys, permissions). Defined here so the HTTP layer imports no context;
 * merchants produces it (merchants/service.ts `authenticate`), from a secret key or a dashboard user's session.
 */
import type { Mode } from "@mpay/protocol";

/** A dashboard user's role, lowest first: support reads, developer does what a secret key does, owner adds staff. */
export const MERCHANT_ROLES = ["support", "developer", "owner"] as const;
export type MerchantRole = (typeof MERCHANT_ROLES)[number];

export interface MerchantAuth {
  merchantId: string;
  mode: Mode;
  /** What the rate limit counts by: the API key's id, or the dashboard user's id. */
  keyId: string;
  /** Who acts, as the audit log names it: `merchant:mch_…` for an API key, `merchant_user:mus_…` for a user. */
  actor: string;
  /** Set for a dashboard user's session (permissions.ts decides per route); absent for an API key. */
  role?: MerchantRole;
  merchant: { id: string; name: string; displayName: string; allowedOrigins: string[] };
}
