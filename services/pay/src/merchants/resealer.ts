/** `mpay vault rotate` for the merchants' webhook signing secrets (keys/reseal.ts explains the pattern). */
import type { Mode } from "@mpay/protocol";
import { sealedColumnResealer } from "../keys/reseal.ts";
import { webhookSecretAad } from "./service.ts";

export const webhookSecretResealer = sealedColumnResealer({
  table: "webhook_secrets",
  key: ["merchant_id", "mode"],
  column: "sealed_secret",
  purpose: "webhook-secret",
  aad: (r) => webhookSecretAad(r.merchant_id, r.mode as Mode),
});
