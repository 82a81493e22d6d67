/** `mpay vault rotate` for the PIN logins' sealed OPAQUE state (keys/reseal.ts explains the pattern). */
import { sealedColumnResealer } from "../keys/reseal.ts";
import { pinLoginAad } from "./service.ts";

// Logins live a minute; re-sealing them anyway keeps "no row left on an old version" true at every moment.
export const pinLoginResealer = sealedColumnResealer({
  table: "pin_logins",
  key: ["payer_id", "login_id"],
  column: "sealed_state",
  purpose: "pin-login-state",
  aad: (r) => pinLoginAad(r.payer_id, r.login_id),
});
