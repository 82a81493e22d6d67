/** `mpay vault rotate` for the endpoints' sealed keys and secrets (keys/reseal.ts explains the pattern). */
import { sealedColumnResealer } from "../keys/reseal.ts";
import { webhookEndpointSecretAad } from "./endpoint-secrets.ts";
import { v1aKeyAad } from "./service.ts";

export const v1aKeyResealer = sealedColumnResealer({
  table: "webhook_endpoints",
  key: ["id"],
  column: "v1a_sealed_private_key",
  purpose: "webhook-signing-key",
  aad: (r) => v1aKeyAad(r.id),
});

/** Each endpoint's own `whsec_` secret (null for one that signs with its merchant's account secret). */
export const endpointSecretResealer = sealedColumnResealer({
  table: "webhook_endpoints",
  key: ["id"],
  column: "sealed_secret",
  purpose: "webhook-secret",
  aad: (r) => webhookEndpointSecretAad(r.id),
});

/** The secret a rotation replaced, still signing until its overlap ends. */
export const previousEndpointSecretResealer = sealedColumnResealer({
  table: "webhook_endpoints",
  key: ["id"],
  column: "previous_sealed_secret",
  purpose: "webhook-secret",
  aad: (r) => webhookEndpointSecretAad(r.id),
});
