/**
 * Payers and their sign-in. A payer's MPay account is created on the first messenger sign-in and linked to the
 * messenger's subject; there is no other sign-up. A session is an opaque 256-bit bearer token, stored as a hash.
 * Signing in proves who the payer is, not that a device may pay: devices, PIN and passkeys come on top.
 */
import type { Clock } from "@mpay/service-kit";
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { SIGN_IN_CODE_PATTERN, SIGN_IN_CODE_VERIFIER_PATTERN, Secret, newId } from "@mpay/protocol";
import type { Db, Executor } from "../db/client.ts";
import { ApiError } from "../http/errors.ts";
import type { MessengerClient, MessengerIdentity } from "./messenger-client.ts";
import {
  findSession,
  insertSession,
  insertSignIn,
  insertSignInCode,
  payerById,
  payersByPhoneNumber,
  purgeSignIns,
  takeSignIn,
  takeSignInCode,
  upsertPayer,
  type PayerRow,
} from "./store.ts";

/** The row other contexts see; they import it from here, never from the store. */
export type { PayerRow } from "./store.ts";

/** A sign-in must come back from the messenger within this time. */
const SIGN_IN_TTL_MS = 10 * 60_000;
/** The wallet's landing page exchanges the code at once; two minutes leave room for a slow phone, no more. */
export const SIGN_IN_CODE_TTL_MS = 2 * 60_000;

const token = (bytes: number) => randomBytes(bytes).toString("base64url");
const hashToken = (value: string) => createHash("sha256").update(value).digest("hex");

export interface PayerSession {
  sessionToken: Secret<string>;
  expiresAt: Date;
  payer: PayerRow;
}

export class PayerService {
  constructor(
    private readonly db: Db,
    private readonly messenger: MessengerClient,
    private readonly sessionTtlSeconds: number,
    private readonly clock: Clock,
  ) {}

  /**
   * Starts a sign-in for the wallet that holds the verifier of `codeChallenge` (S256): the URL of the messenger's
   * authorization endpoint, with the pay server's own PKCE, state and nonce kept here beside the wallet's challenge.
   */
  async startSignIn(codeChallenge: string): Promise<{ authorizationUrl: string; state: string }> {
    const state = token(24);
    const nonce = token(24);
    const codeVerifier = token(48);
    const authorizationUrl = await this.messenger.authorizationUrl(state, nonce, codeVerifier);
    await insertSignIn(this.db, {
      state,
      nonce,
      codeVerifier,
      codeChallenge,
      expiresAt: new Date(this.clock.now().getTime() + SIGN_IN_TTL_MS),
    });
    return { authorizationUrl, state };
  }

  /**
   * Finishes a sign-in from the messenger's redirect and answers a one-time sign-in code for the wallet's landing
   * page, bound to the challenge the wallet started with. The state is spent first, so a replayed or forged
   * callback fails even before the messenger's code is tried; that code is single-use at the provider too.
   */
  async finishSignIn(query: URLSearchParams): Promise<{ code: Secret<string>; payer: PayerRow }> {
    const callbackUrl = this.messenger.callbackUrl(query);
    const state = callbackUrl.searchParams.get("state");
    if (!state) throw new ApiError("sign_in_invalid", "The sign-in callback has no state.");
    const signIn = await takeSignIn(this.db, state);
    if (!signIn) throw new ApiError("sign_in_invalid", "Unknown or already used sign-in; start again.");
    if (signIn.expiresAt.getTime() < this.clock.now().getTime())
      throw new ApiError("sign_in_invalid", "The sign-in took too long; start again.");
    const error = callbackUrl.searchParams.get("error");
    if (error) throw new ApiError("sign_in_invalid", `The messenger refused the sign-in (${error.slice(0, 40)}).`);
    const payer = await this.#payerOf(await this.messenger.identity(callbackUrl, signIn));
    const code = new Secret(`plc_${token(32)}`);
    await insertSignInCode(this.db, {
      codeHash: hashToken(code.peek()),
      payerId: payer.id,
      codeChallenge: signIn.codeChallenge,
      expiresAt: new Date(this.clock.now().getTime() + SIGN_IN_CODE_TTL_MS),
    });
    return { code, payer };
  }

  /**
   * Exchanges a sign-in code and the verifier of its challenge for a session. The code is spent before anything is
   * checked, so a wrong verifier burns it too: whoever saw the code in a URL gets one guess, and it is not enough.
   * Every failure is the same `sign_in_invalid`.
   */
  async exchangeSignInCode(code: string, codeVerifier: string): Promise<PayerSession> {
    const refused = new ApiError(
      "sign_in_invalid",
      "The sign-in code is unknown, used, expired or not yours; sign in again.",
    );
    if (!SIGN_IN_CODE_PATTERN.test(code) || !SIGN_IN_CODE_VERIFIER_PATTERN.test(codeVerifier)) throw refused;
    const row = await takeSignInCode(this.db, hashToken(code));
    if (!row || row.expiresAt.getTime() <= this.clock.now().getTime()) throw refused;
    const challenge = Buffer.from(createHash("sha256").update(codeVerifier).digest("base64url"));
    const expected = Buffer.from(row.codeChallenge);
    if (challenge.length !== expected.length || !timingSafeEqual(challenge, expected)) throw refused;
    const payer = await payerById(this.db, row.payerId);
    if (!payer) throw refused;
    return this.#sessionFor(payer);
  }

  /** Finds or creates the payer of a verified messenger identity and opens a session for it (tests, benchmarks). */
  async openSession(identity: MessengerIdentity): Promise<PayerSession> {
    return this.#sessionFor(await this.#payerOf(identity));
  }

  /** The payer whose messenger account has this E.164 number (the most recently made, should two claim it). */
  async byPhoneNumber(phoneNumber: string): Promise<PayerRow | null> {
    return (await payersByPhoneNumber(this.db, phoneNumber))[0] ?? null;
  }

  #payerOf(identity: MessengerIdentity): Promise<PayerRow> {
    return upsertPayer(this.db, {
      id: newId("payer"),
      messengerSubject: identity.subject,
      displayName: identity.displayName,
      phoneNumber: identity.phoneNumber,
    });
  }

  async #sessionFor(payer: PayerRow): Promise<PayerSession> {
    const sessionToken = new Secret(`pst_${token(32)}`);
    const expiresAt = new Date(this.clock.now().getTime() + this.sessionTtlSeconds * 1000);
    await insertSession(this.db, { tokenHash: hashToken(sessionToken.peek()), payerId: payer.id, expiresAt });
    return { sessionToken, expiresAt, payer };
  }

  /** Resolves `Authorization: Bearer pst_…` to the payer, or throws payer_session_invalid. */
  async authenticate(header: string | undefined): Promise<PayerRow> {
    const match = header ? /^Bearer\s+(pst_[A-Za-z0-9_-]{43})\s*$/.exec(header) : null;
    if (!match?.[1])
      throw new ApiError(
        "payer_session_invalid",
        "Sign in with the messenger first, and send the session as `Authorization: Bearer pst_…`.",
      );
    const payer = await findSession(this.db, hashToken(match[1]), this.clock.now());
    if (!payer) throw new ApiError("payer_session_invalid", "The session is unknown or has expired; sign in again.");
    return payer;
  }

  /** The payer's messenger account (`acct_…`), read through `db` (the caller's transaction, when in one). */
  async messengerSubject(db: Executor, payerId: string): Promise<string> {
    const payer = await payerById(db, payerId);
    if (!payer) throw new Error(`no payer ${payerId}`);
    return payer.messengerSubject;
  }

  purgeExpiredSignIns(now = this.clock.now()): Promise<number> {
    return purgeSignIns(this.db, now);
  }
}
