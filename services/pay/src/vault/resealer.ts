/**
 * `mpay vault rotate` for the card vault: re-wraps every K_srv under the current KEK version, online. The KEK
 * version is part of K_srv's AAD and kept in `cards.kek_version`, so each row is opened with the AAD of its old
 * version and sealed with the new one, both columns updated together under the row lock (keys/reseal.ts).
 */
import type { Resealer } from "../keys/reseal.ts";
import { countCardsBelowKekVersion, lockCardsBelowKekVersion, updateCard } from "./store.ts";
import { kSrvAad } from "./aad.ts";

export const cardShareResealer: Resealer = {
  name: "cards.wrapped_k_srv",
  async resealBatch(ctx, belowVersion, batchSize) {
    return ctx.db.transaction(async (tx) => {
      const rows = await lockCardsBelowKekVersion(tx, belowVersion, batchSize);
      for (const card of rows) {
        const kSrv = await ctx.keys.open("vault-k-srv", card.wrappedKSrv!, kSrvAad(card, card.kekVersion!));
        try {
          // No await between reading the version and sealing: seal takes the version it reads here.
          const kekVersion = ctx.keys.currentKeyVersion();
          const wrappedKSrv = await ctx.keys.seal("vault-k-srv", kSrv, kSrvAad(card, kekVersion));
          await updateCard(tx, card.id, { wrappedKSrv, kekVersion });
        } finally {
          kSrv.fill(0);
        }
      }
      return rows.length;
    });
  },
  countBelow: (db, belowVersion) => countCardsBelowKekVersion(db, belowVersion),
};
