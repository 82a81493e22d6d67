/**
 * A passkey registered for a synthetic payer over the pay server's real routes (setup, not timed), as
 * `Wallet.addPasskey` does it with a browser's `startRegistration()`: the device's `add-passkey` statement and a
 * PIN login for `add-passkey` → registration options → the authenticator makes the credential
 * (bench/webauthn-authenticator.ts) → `POST /v1/payer/passkeys`. The wallet then binds it at the issuer when it
 * enrolls its card (bench/pay-wallet.ts), so that the issuer can check the passkey's approvals itself.
 */
import type { Pool } from "undici";
import { wipe } from "@mpay/wallet";
import { pinLogin, setupPost, signWithNonce, type Wallet } from "./auth-wallet.ts";
import { SoftAuthenticator, type RegistrationJson } from "./webauthn-authenticator.ts";

/** The relying party the servers are configured with (MPAY_PASSKEY_* and ISSUER_PASSKEY_*), and the wallet page's origin. */
export const BENCH_RELYING_PARTY = { rpId: "localhost", origin: "http://localhost:4300" } as const;

/** The environment that gives the pay servers and the issuer host that relying party. */
export function relyingPartyEnv(prefix: "MPAY" | "ISSUER"): Record<string, string> {
  return {
    [`${prefix}_PASSKEY_RP_ID`]: BENCH_RELYING_PARTY.rpId,
    [`${prefix}_PASSKEY_ORIGINS`]: BENCH_RELYING_PARTY.origin,
  };
}

/** Registers a passkey for the wallet's payer and keeps its authenticator on the wallet (`wallet.passkey`). */
export async function registerPasskey(pool: Pool, wallet: Wallet): Promise<void> {
  const deviceSignature = await signWithNonce(pool, wallet.authorization, wallet.privateKey, wallet.kid, {
    purpose: "add-passkey",
    payerId: wallet.payerId,
  });
  let failure = "";
  const login = await pinLogin(pool, wallet, "add-passkey", (_kind, status, _ms, body) => {
    const ok = typeof status === "number" && status >= 200 && status < 300;
    if (!ok) failure = `${status}: ${body.slice(0, 300)}`;
    return ok;
  });
  if (!login) throw new Error(`setup: the PIN login for add-passkey failed (${failure})`);
  wipe(login.sessionKey);
  const options = await setupPost<Parameters<SoftAuthenticator["register"]>[0]>(
    pool,
    "/v1/payer/passkeys/registration-options",
    wallet.authorization,
    { deviceSignature, pin: { loginId: login.loginId, finishLoginRequest: login.finishLoginRequest } },
  );
  const authenticator = new SoftAuthenticator(BENCH_RELYING_PARTY.rpId, BENCH_RELYING_PARTY.origin, wallet.payerId);
  const response: RegistrationJson = authenticator.register(options);
  const stored = await setupPost<{ id: string; publicKey: string }>(pool, "/v1/payer/passkeys", wallet.authorization, {
    response,
  });
  if (stored.id !== response.id || stored.publicKey !== authenticator.cosePublicKey)
    throw new Error("setup: the pay server stored another passkey than the one registered");
  wallet.passkey = authenticator;
}
