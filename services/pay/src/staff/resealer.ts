/** `mpay vault rotate` for staff TOTP seeds (keys/reseal.ts explains the pattern). */
import { sealedColumnResealer } from "../keys/reseal.ts";
import { staffTotpAad } from "./service.ts";

export const staffTotpResealer = sealedColumnResealer({
  table: "staff_members",
  key: ["id"],
  column: "sealed_totp_secret",
  purpose: "staff-totp",
  aad: (r) => staffTotpAad(r.id),
});

export const staffSetupSecretResealer = sealedColumnResealer({
  table: "staff_challenges",
  key: ["token_hash", "staff_id"],
  column: "sealed_setup_secret",
  purpose: "staff-totp",
  aad: (r) => staffTotpAad(r.staff_id),
});
