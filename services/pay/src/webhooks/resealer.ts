/** `mpay vault rotate` for the endpoints' v1a signing keys (keys/reseal.ts explains the pattern). */
import { sealedColumnResealer } from "../keys/reseal.ts";
import { v1aKeyAad } from "./service.ts";

export const v1aKeyResealer = sealedColumnResealer({
  table: "webhook_endpoints",
  key: ["id"],
  column: "v1a_sealed_private_key",
  purpose: "webhook-signing-key",
  aad: (r) => v1aKeyAad(r.id),
});
