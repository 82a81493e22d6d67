/** `mpay vault rotate` for dashboard users' TOTP seeds (keys/reseal.ts explains the pattern). */
import { sealedColumnResealer } from "../keys/reseal.ts";
import { totpSecretAad } from "./service.ts";

export const totpSecretResealer = sealedColumnResealer({
  table: "merchant_users",
  key: ["id"],
  column: "sealed_totp_secret",
  purpose: "merchant-user-totp",
  aad: (r) => totpSecretAad(r.id),
});

// Setup seeds live 5 minutes; re-sealing them anyway keeps "no row left on an old version" true at every moment.
export const setupSecretResealer = sealedColumnResealer({
  table: "merchant_user_challenges",
  key: ["token_hash", "user_id"],
  column: "sealed_setup_secret",
  purpose: "merchant-user-totp",
  aad: (r) => totpSecretAad(r.user_id),
});
