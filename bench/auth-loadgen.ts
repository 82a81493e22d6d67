/**
 * A load generator of the `auth` scenario, in a process of its own (bench/child.ts) so that the wallets' work
 * (OPAQUE's client side, ECDSA signing) is charged to it and not to the bench process. It keeps its synthetic
 * payers' wallets between requests:
 *
 * - `enroll`: makes a device key per payer, binds it and sets the PIN over HTTP (setup, not timed);
 * - `run`: `clients` virtual users loop until the deadline (bench/wallet-load.ts): `logins` — one pin-check login
 *   per iteration; `approvals` — one approval per iteration, of the next payment from a queue the users share.
 */
import { serveParent } from "./child.ts";
import { approveWithPin, checkPin, storeCard, type BenchCard, type Wallet } from "./auth-wallet.ts";
import {
  bindWallets,
  poolFor,
  inParallel,
  runWalletLoad,
  type BindConfig,
  type WalletLoadConfig,
  type WalletLoadResult,
} from "./wallet-load.ts";

export type AuthMode = "logins" | "approvals";

export interface AuthLoadConfig extends WalletLoadConfig {
  mode: AuthMode;
}

export type AuthLoadProtocol = {
  enroll: { body: BindConfig; result: { enrolled: number } };
  /** Seals and uploads each wallet's card (the rows the bench made in the vault for their devices). */
  cards: { body: { urls: string[]; cards: BenchCard[] }; result: { stored: number } };
  run: { body: AuthLoadConfig; result: WalletLoadResult };
};

let wallets: Wallet[] = [];

async function storeCards(config: { urls: string[]; cards: BenchCard[] }): Promise<{ stored: number }> {
  const pool = poolFor(config.urls[0] ?? "", 8);
  try {
    const byPayer = new Map(wallets.map((w) => [w.payerId, w]));
    await inParallel(config.cards, 8, async (card) => {
      const wallet = byPayer.get(card.payerId);
      if (!wallet) throw new Error(`no wallet for ${card.payerId}`);
      await storeCard(pool, wallet, card);
    });
  } finally {
    await pool.close();
  }
  return { stored: config.cards.length };
}

serveParent<AuthLoadProtocol>({
  enroll: async (config) => {
    wallets = await bindWallets(config);
    return { enrolled: wallets.length };
  },
  cards: storeCards,
  run: (config) =>
    runWalletLoad(
      config,
      wallets,
      config.mode === "logins"
        ? { perPayment: false, run: (pool, wallet, _paymentId, log, device) => checkPin(pool, wallet, log, device) }
        : {
            perPayment: true,
            run: (pool, wallet, paymentId, log, device) => approveWithPin(pool, wallet, paymentId ?? "", log, device),
          },
    ),
});
