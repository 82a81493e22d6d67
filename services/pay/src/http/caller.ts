/**
 * Who a merchant request comes from, as the merchants context resolved its API key: what the HTTP layer needs to
 * scope a request (routes, idempotency keys). Defined here so the HTTP layer imports no context; merchants
 * produces it (merchants/service.ts `authenticate`).
 */
import type { Mode } from "@mpay/protocol";

export interface MerchantAuth {
  merchantId: string;
  mode: Mode;
  keyId: string;
  merchant: { id: string; name: string; displayName: string; allowedOrigins: string[] };
}
