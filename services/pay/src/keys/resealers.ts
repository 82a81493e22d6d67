/**
 * Every column that holds a blob from `keys.seal`, for `mpay vault rotate` (reseal.ts explains the pattern).
 * A context that adds such a column appends its Resealer here; a column missing from this list would stay on
 * an old key version forever, and the rotation report could not say that none is left.
 *
 * The AAD functions are the owning contexts' own, so a row is re-sealed with exactly the AAD it is opened with.
 */
import { webhookSecretAad } from "../merchants/service.ts";
import { pinLoginAad } from "../pin/service.ts";
import { v1aKeyAad } from "../webhooks/service.ts";
import type { Mode } from "@mpay/protocol";
import { providerSecretAad } from "./provider-secrets.ts";
import { sealedColumnResealer, type Resealer } from "./reseal.ts";
import { cardShareResealer } from "../vault/resealer.ts";
import { tokenAad } from "../mandates/aad.ts";
import { sharedDetailsAad } from "../shared-details/service.ts";

export const RESEALERS: readonly Resealer[] = [
  sealedColumnResealer({ table: "provider_secrets", key: ["name"], column: "sealed", purpose: "provider-secret", aad: (r) => providerSecretAad(r.name) }),
  sealedColumnResealer({
    table: "webhook_secrets",
    key: ["merchant_id", "mode"],
    column: "sealed_secret",
    purpose: "webhook-secret",
    aad: (r) => webhookSecretAad(r.merchant_id, r.mode as Mode),
  }),
  sealedColumnResealer({ table: "webhook_endpoints", key: ["id"], column: "v1a_sealed_private_key", purpose: "webhook-signing-key", aad: (r) => v1aKeyAad(r.id) }),
  // Logins live a minute; re-sealing them anyway keeps "no row left on an old version" true at every moment.
  sealedColumnResealer({ table: "pin_logins", key: ["payer_id", "login_id"], column: "sealed_state", purpose: "pin-login-state", aad: (r) => pinLoginAad(r.payer_id, r.login_id) }),
  // The card vault's server shares: the KEK version is in their AAD, so they re-seal with their own resealer.
  cardShareResealer,
  sealedColumnResealer({ table: "recurring_mandates", key: ["id"], column: "sealed_token", purpose: "recurring-token", aad: (r) => tokenAad(r.id) }),
  sealedColumnResealer({ table: "payments", key: ["id"], column: "sealed_shared_details", purpose: "payer-shared-details", aad: (r) => sharedDetailsAad(r.id) }),
];
