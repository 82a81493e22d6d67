/**
 * Every column that holds a blob from `keys.seal`, registered for `mpay vault rotate` (keys/reseal.ts explains the
 * pattern). A context that adds such a column defines its Resealer beside its code and appends it here;
 * sealed-columns.test.ts fails on a sealed column that no resealer names.
 */
import { providerSecretResealer } from "./keys/provider-secrets.ts";
import { resealerRegistry } from "./keys/resealers.ts";
import { recurringTokenResealer } from "./mandates/resealer.ts";
import { webhookSecretResealer } from "./merchants/resealer.ts";
import { setupSecretResealer, totpSecretResealer } from "./merchant-users/resealer.ts";
import { pinLoginResealer } from "./pin/resealer.ts";
import { sharedDetailsResealer } from "./shared-details/resealer.ts";
import { staffSetupSecretResealer, staffTotpResealer } from "./staff/resealer.ts";
import { cardShareResealer } from "./vault/resealer.ts";
import { endpointSecretResealer, previousEndpointSecretResealer, v1aKeyResealer } from "./webhooks/resealer.ts";

export const RESEALERS = resealerRegistry([
  providerSecretResealer,
  webhookSecretResealer,
  v1aKeyResealer,
  endpointSecretResealer,
  previousEndpointSecretResealer,
  pinLoginResealer,
  // The card vault's server shares: the KEK version is in their AAD, so they re-seal with their own resealer.
  cardShareResealer,
  recurringTokenResealer,
  sharedDetailsResealer,
  totpSecretResealer,
  setupSecretResealer,
  staffTotpResealer,
  staffSetupSecretResealer,
]);
