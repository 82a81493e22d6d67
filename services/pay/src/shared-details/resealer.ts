/**
 * `mpay vault rotate` for the details payers shared with a payment (keys/reseal.ts explains the pattern): sealed
 * into the payment's row, with the AAD shared-details seals them with.
 */
import { sealedColumnResealer } from "../keys/reseal.ts";
import { sharedDetailsAad } from "./service.ts";

export const sharedDetailsResealer = sealedColumnResealer({
  table: "payments",
  key: ["id"],
  column: "sealed_shared_details",
  purpose: "payer-shared-details",
  aad: (r) => sharedDetailsAad(r.id),
});
