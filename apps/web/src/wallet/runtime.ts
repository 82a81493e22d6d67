/**
 * The one Wallet of this page: the SDK's `Wallet` over the browser key store (IndexedDB, non-extractable WebCrypto
 * keys), a `PayClient` to the pay server named by this origin's /config.json, and the card-network roots from that
 * same file (never from the pay server: DESIGN.md "Split custody", point 4). It also holds whether this tab is
 * signed in, so every screen sees a sign-out (or an expired session) at once.
 */
import { IndexedDbKeyStore, PayClient, Wallet } from "@mpay/wallet";
import { useSyncExternalStore } from "react";
import { appConfig } from "../shell/config.ts";
import { forgetSession, loadSession, saveSession, type StoredSession } from "./session.ts";

export interface WalletRuntime {
  wallet: Wallet;
  client: PayClient;
  /** The same store the Wallet keeps its keys in; the app keeps its passkeys' public parts there too. */
  keyStore: IndexedDbKeyStore;
}

let runtime: WalletRuntime | undefined;
let session: StoredSession | undefined;
const listeners = new Set<() => void>();

export function walletRuntime(): WalletRuntime {
  if (runtime === undefined) {
    const config = appConfig();
    session = loadSession();
    const client = new PayClient({
      baseUrl: config.payUrl,
      ...(session ? { sessionToken: session.sessionToken } : {}),
    });
    const keyStore = new IndexedDbKeyStore({ databaseName: "mpay-wallet" });
    const wallet = new Wallet({
      // Checked by appConfig: the demo network's roots, as a plain array.
      trustedRoots: config.trustedRoots,
      keyStore,
      client,
    });
    runtime = { wallet, client, keyStore };
  }
  return runtime;
}

function changed(): void {
  for (const listener of listeners) listener();
}

/** Keeps a new session for this tab and has the SDK use it. */
export function signedIn(next: StoredSession): void {
  const { client } = walletRuntime();
  client.useSession(next.sessionToken);
  session = next;
  saveSession(next);
  changed();
}

/** Forgets this tab's session (sign-out, or the server said it is no longer valid). */
export function signedOut(): void {
  const { wallet } = walletRuntime();
  wallet.signOut();
  session = undefined;
  forgetSession();
  changed();
}

export function isSignedIn(): boolean {
  walletRuntime();
  return session !== undefined && Date.parse(session.expiresAt) > Date.now();
}

export function useSignedIn(): boolean {
  return useSyncExternalStore((listener) => {
    listeners.add(listener);
    return () => listeners.delete(listener);
  }, isSignedIn);
}
