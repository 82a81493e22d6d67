/** `mpay vault rotate` for the mandates' sealed issuer tokens (keys/reseal.ts explains the pattern). */
import { sealedColumnResealer } from "../keys/reseal.ts";
import { tokenAad } from "./aad.ts";

export const recurringTokenResealer = sealedColumnResealer({
  table: "recurring_mandates",
  key: ["id"],
  column: "sealed_token",
  purpose: "recurring-token",
  aad: (r) => tokenAad(r.id),
});
