/**
 * Sessions of the messenger app (issue 9's chats build on them): a phone number and password buy an opaque bearer
 * token, `mss_` and 256 random bits, kept only as its SHA-256 and good until it expires or is signed out.
 *
 * Sign-in goes through the same guards as the OpenID Connect login form: the attempt is counted per number and
 * per address before the password is checked (signin/throttle.ts), and an unknown number and a wrong password
 * get the same answer in the same time (AccountService.authenticate checks a decoy hash).
 */
import { createHash, randomBytes } from "node:crypto";
import { Secret } from "@mpay/protocol";
import type { Db } from "../db/client.ts";
import { ApiError } from "../http/errors.ts";
import { PASSWORD_MAX } from "../accounts/input.ts";
import type { Account, AccountService } from "../accounts/service.ts";
import { attemptKeys, type LoginThrottle } from "../signin/throttle.ts";
import { deleteExpiredSessions, deleteSession, insertSession, sessionAccount } from "./store.ts";

const BEARER = /^Bearer\s+(mss_[A-Za-z0-9_-]{43})\s*$/;

const hashToken = (token: string) => createHash("sha256").update(token).digest("base64url");

export interface AppSession {
  sessionToken: Secret<string>;
  expiresAt: Date;
  account: Account;
}

export class SessionService {
  constructor(
    private readonly db: Db,
    private readonly accounts: AccountService,
    private readonly throttle: LoginThrottle,
    private readonly ttlSeconds: number,
    private readonly windowMinutes: number,
  ) {}

  /**
   * Opens a session for the account of this phone number and password. `rate_limited` when the number or the
   * address has used up its failed tries (checked before the password); `credentials_invalid` for an unknown
   * number and for a wrong password alike.
   */
  async signIn(phoneNumber: string, password: Secret<string>, clientIp: string): Promise<AppSession> {
    const keys = attemptKeys(phoneNumber, clientIp);
    const attempt = await this.throttle.begin(keys);
    if (!attempt)
      throw new ApiError("rate_limited", `Too many failed sign-ins. Wait ${this.windowMinutes} minutes and try again.`);
    const length = password.peek().length;
    const account =
      length > 0 && length <= PASSWORD_MAX ? await this.accounts.authenticate(phoneNumber, password) : null;
    if (!account) throw new ApiError("credentials_invalid", "The phone number or password is incorrect.");
    await this.throttle.succeeded(keys, attempt);
    const sessionToken = new Secret(`mss_${randomBytes(32).toString("base64url")}`);
    const expiresAt = new Date(Date.now() + this.ttlSeconds * 1000);
    await insertSession(this.db, { tokenHash: hashToken(sessionToken.peek()), accountId: account.id, expiresAt });
    return { sessionToken, expiresAt, account };
  }

  /** The account id of `Authorization: Bearer mss_…`; `session_invalid` for none, an unknown or an expired one. */
  async authenticate(authorization: string | undefined): Promise<string> {
    const token = this.tokenOf(authorization);
    const accountId = await sessionAccount(this.db, hashToken(token), new Date());
    if (!accountId) throw new ApiError("session_invalid", "The session is unknown or has expired; sign in again.");
    return accountId;
  }

  /** Ends the session of this header for good; `session_invalid` when there was none to end. */
  async signOut(authorization: string | undefined): Promise<void> {
    if (!(await deleteSession(this.db, hashToken(this.tokenOf(authorization)), new Date()))) {
      throw new ApiError("session_invalid", "The session is unknown or has expired.");
    }
  }

  sweep(now = new Date()): Promise<number> {
    return deleteExpiredSessions(this.db, now);
  }

  private tokenOf(authorization: string | undefined): string {
    const token = authorization ? BEARER.exec(authorization)?.[1] : undefined;
    if (!token)
      throw new ApiError(
        "session_invalid",
        "Sign in with POST /api/sessions and send the session as `Authorization: Bearer mss_…`.",
      );
    return token;
  }
}
