/**
 * A merchant's dashboard users (issue 10, deliverable 3): staff with a role, who sign in with email and password
 * plus a TOTP code (or a passkey, passkeys.ts) and then call the same /v1 routes a secret key calls, under their
 * role (permissions.ts). The merchants context resolves their `mds_` sessions into a MerchantAuth through
 * `resolveSession`; every action lands in the audit log as `merchant_user:mus_…`.
 *
 * Sign-in is two steps. The password step claims an attempt slot for the email **before** checking anything
 * (service-kit LimitSlots: of N concurrent wrong guesses at most the limit are checked), answers the same
 * `sign_in_failed` for an unknown email, a wrong password and a disabled user, and checks a decoy hash when there
 * is no user, so the time does not tell them apart either. A right password gives a challenge (`dsc_…`, 5
 * minutes, single-use, up to 5 wrong codes); the TOTP step turns it into a session.
 */
import { Secret, isId, newId } from "@mpay/protocol";
import type { Clock } from "@mpay/service-kit";
import type { AuditService } from "../audit/service.ts";
import type { Db, Executor } from "../db/client.ts";
import type { MerchantAuth, MerchantRole } from "../http/caller.ts";
import { ApiError } from "../http/errors.ts";
import type { KeyProvider } from "../keys/provider.ts";
import type { MerchantService } from "../merchants/service.ts";
import { hashPassword, temporaryPassword } from "../credentials/password.ts";
import {
  CHALLENGE_MAX_FAILURES,
  CHALLENGE_TTL_MS,
  PasswordStep,
  SealedTotp,
  normalEmail,
  requireEmail,
  requireName,
} from "../credentials/sign-in.ts";
import { hashToken, isToken, newToken } from "../credentials/tokens.ts";
import { merchantUserSignInSlots } from "./schema.ts";
import {
  acceptTotpStep,
  countChallengeFailure,
  findUser,
  findUserByEmail,
  insertChallenge,
  insertSession,
  insertUser,
  listUsers,
  lockChallenge,
  lockUsersOf,
  markSignedIn,
  purgeExpired,
  writeTotpSecret,
  signOutSession,
  signOutUser,
  spendChallenge,
  touchSession,
  updateUser,
  type LiveSession,
  type MerchantUserRow,
} from "./store.ts";
import { requireRole, type DashboardSession, type SignInChallenge } from "./views.ts";

export { userView, type DashboardSession, type MerchantUserView, type SessionUser } from "./views.ts";

export { SIGN_IN_ATTEMPTS } from "../credentials/sign-in.ts";
export const SESSION_TTL_MS = 12 * 3600_000;
export const SESSION_IDLE_MS = 30 * 60_000;

/** The AAD a user's TOTP seed is sealed with (the setup seed offered in a challenge too: it becomes the user's). */
export function totpSecretAad(userId: string): string {
  return `merchant-user-totp|${userId}`;
}

export class MerchantUserService {
  readonly #password: PasswordStep;
  readonly #totp: SealedTotp;

  constructor(
    private readonly db: Db,
    keys: KeyProvider,
    private readonly audit: AuditService,
    private readonly merchants: MerchantService,
    private readonly clock: Clock,
  ) {
    this.#password = new PasswordStep(db, merchantUserSignInSlots);
    this.#totp = new SealedTotp(keys, "merchant-user-totp");
  }

  /**
   * Adds a user to a merchant with a temporary password, answered once (never stored in clear); the user sets up
   * TOTP at the first sign-in. `actor`: the owner who adds them, or the operator CLI.
   */
  async create(
    input: {
      merchantId: string;
      email: string;
      name: string;
      role: string;
      actor: string;
      /** The demo's owner: a password chosen by the caller instead of a generated one. */
      password?: Secret<string>;
    },
    within?: Executor,
  ): Promise<{ user: MerchantUserRow; temporaryPassword: Secret<string> }> {
    const email = requireEmail(input.email);
    const name = requireName(input.name);
    const role = requireRole(input.role);
    const password = input.password ?? new Secret(temporaryPassword());
    const passwordHash = await hashPassword(password.peek());
    const add = async (tx: Executor) => {
      if (!(await this.merchants.get(input.merchantId, tx)))
        throw new ApiError("resource_missing", "No such merchant.", "merchant");
      const user = await insertUser(tx, {
        id: newId("merchantUser"),
        merchantId: input.merchantId,
        email,
        name,
        role,
        passwordHash,
      });
      if (!user)
        throw new ApiError("merchant_user_exists", "A dashboard user with this email already exists.", "email");
      await this.audit.append(tx, {
        actor: input.actor,
        action: "merchant_user.created",
        target: user.id,
        data: { merchantId: user.merchantId, email, role },
      });
      return { user, temporaryPassword: password };
    };
    return within ? add(within) : this.db.transaction(add);
  }

  /** Seals a TOTP seed as the user's (the demo owner, whose seed is written to the demo file). */
  async setTotpSecret(userId: string, secretBase32: Secret<string>): Promise<void> {
    const sealed = await this.#totp.seal(secretBase32.peek(), totpSecretAad(userId));
    if (!(await writeTotpSecret(this.db, userId, sealed)))
      throw new ApiError("resource_missing", "No such dashboard user.");
  }

  list(merchantId: string): Promise<MerchantUserRow[]> {
    return listUsers(this.db, merchantId);
  }

  findByEmail(email: string): Promise<MerchantUserRow | null> {
    return findUserByEmail(this.db, normalEmail(email));
  }

  /**
   * Changes a user's role or disables them (owners only, routes say). The merchant's last active owner can be
   * neither demoted nor disabled; a disabled user's sessions end at once.
   */
  async update(
    auth: MerchantAuth,
    userId: string,
    change: { role?: string; disabled?: boolean },
  ): Promise<MerchantUserRow> {
    const role = change.role === undefined ? undefined : requireRole(change.role);
    return this.db.transaction(async (tx) => {
      const users = await lockUsersOf(tx, auth.merchantId);
      const user = users.find((u) => u.id === userId);
      if (!user) throw new ApiError("resource_missing", "No such dashboard user.");
      const after = { role: role ?? user.role, disabled: change.disabled ?? user.disabled };
      const activeOwner = (u: { role: MerchantRole; disabled: boolean }) => u.role === "owner" && !u.disabled;
      if (activeOwner(user) && !activeOwner(after) && users.filter(activeOwner).length <= 1)
        throw new ApiError(
          "last_owner",
          "This is the merchant's last active owner: make another user owner before demoting or disabling this one.",
        );
      const updated = await updateUser(tx, userId, after);
      if (after.disabled && !user.disabled) await signOutUser(tx, userId, this.clock.now());
      await this.audit.append(tx, {
        actor: auth.actor,
        action: "merchant_user.updated",
        target: userId,
        data: { before: { role: user.role, disabled: user.disabled }, after },
      });
      return updated;
    });
  }

  /** Step one: email and password. Answers a challenge for the second factor, or throws (see the file comment). */
  async signIn(emailInput: string, password: string): Promise<SignInChallenge> {
    const email = normalEmail(emailInput).slice(0, 254);
    const now = this.clock.now();
    const user = await findUserByEmail(this.db, email);
    const checked = await this.#password.check(email, password, user, now);
    if (checked === "locked") {
      await this.auditFailure(user, email, "locked");
      throw new ApiError("sign_in_locked", "Too many sign-in attempts for this email; try again in 15 minutes.");
    }
    if (checked === "failed" || !user) {
      await this.auditFailure(user, email, "password");
      throw new ApiError("sign_in_failed", "The email or password is not right.");
    }
    const challenge = newToken("dsc");
    const expiresAt = new Date(now.getTime() + CHALLENGE_TTL_MS);
    if (user.sealedTotpSecret) {
      await insertChallenge(this.db, { tokenHash: hashToken(challenge), userId: user.id, factor: "totp", expiresAt });
      return { object: "sign_in_challenge", challenge, factor: "totp" };
    }
    const offer = await this.#totp.offer(totpSecretAad(user.id), user.email);
    await insertChallenge(this.db, {
      tokenHash: hashToken(challenge),
      userId: user.id,
      factor: "totp_setup",
      sealedSetupSecret: offer.sealed,
      expiresAt,
    });
    return {
      object: "sign_in_challenge",
      challenge,
      factor: "totp_setup",
      totpSetup: { secret: offer.secret, otpauthUri: offer.otpauthUri },
    };
  }

  /** Step two: the challenge and a TOTP code (of the user's seed, or of the one offered for setup). */
  async confirmTotp(challenge: string, code: string): Promise<DashboardSession> {
    if (!isToken("dsc", challenge)) throw this.challengeInvalid();
    const tokenHash = hashToken(challenge);
    const now = this.clock.now();
    const outcome = await this.db.transaction(async (tx) => {
      const row = await lockChallenge(tx, tokenHash);
      if (!row || row.usedAt || row.expiresAt <= now) return { kind: "challenge" as const };
      const user = await findUser(tx, row.userId);
      if (!user || user.disabled) return { kind: "challenge" as const };
      const sealed = row.factor === "totp_setup" ? row.sealedSetupSecret : user.sealedTotpSecret;
      if (!sealed) return { kind: "challenge" as const };
      const step = await this.#totp.step(sealed, totpSecretAad(user.id), code, now);
      const accepted =
        step !== null &&
        (await acceptTotpStep(tx, user.id, step, now, row.factor === "totp_setup" ? sealed : undefined));
      if (!accepted) {
        await countChallengeFailure(tx, tokenHash, now, CHALLENGE_MAX_FAILURES);
        await this.audit.append(tx, {
          actor: `merchant_user:${user.id}`,
          action: "merchant_user.sign_in_failed",
          target: user.id,
          data: { merchantId: user.merchantId, reason: step === null ? "totp" : "totp_replayed" },
        });
        return { kind: "code" as const };
      }
      await spendChallenge(tx, tokenHash, now);
      return {
        kind: "ok" as const,
        session: await this.openSession(tx, user, row.factor === "totp_setup" ? "totp_setup" : "totp"),
      };
    });
    if (outcome.kind === "challenge") throw this.challengeInvalid();
    if (outcome.kind === "code")
      throw new ApiError("totp_invalid", "The authenticator code is not right, or was already used.", "code");
    await this.#password.forget(outcome.session.user.email);
    return outcome.session;
  }

  /**
   * Opens a session for a user who passed both factors (TOTP here, or a passkey): in the caller's transaction, with
   * the audit entry. The token is answered once; only its hash is stored.
   */
  async openSession(tx: Executor, user: MerchantUserRow, method: string): Promise<DashboardSession> {
    const now = this.clock.now();
    const merchant = await this.merchants.get(user.merchantId, tx);
    if (!merchant) throw new ApiError("resource_missing", "No such merchant.");
    const token = newToken("mds");
    const expiresAt = new Date(now.getTime() + SESSION_TTL_MS);
    await insertSession(tx, { tokenHash: hashToken(token), userId: user.id, expiresAt, lastSeenAt: now });
    await markSignedIn(tx, user.id, now);
    await this.audit.append(tx, {
      actor: `merchant_user:${user.id}`,
      action: "merchant_user.signed_in",
      target: user.id,
      data: { merchantId: user.merchantId, method },
    });
    return {
      object: "dashboard_session",
      token,
      expiresAt: expiresAt.toISOString(),
      user: {
        id: user.id,
        email: user.email,
        name: user.name,
        role: user.role,
        merchantId: user.merchantId,
        merchantName: merchant.name,
      },
    };
  }

  /** An `mds_` token to its user, merchant and role, or dashboard_session_invalid. Moves the idle end forward. */
  async resolveSession(token: string): Promise<LiveSession> {
    const now = this.clock.now();
    const live = isToken("mds", token)
      ? await touchSession(this.db, hashToken(token), now, new Date(now.getTime() - SESSION_IDLE_MS))
      : null;
    if (!live)
      throw new ApiError(
        "dashboard_session_invalid",
        "The dashboard session is unknown, signed out or expired; sign in again.",
      );
    return live;
  }

  async signOut(token: string, auth: MerchantAuth): Promise<void> {
    await this.db.transaction(async (tx) => {
      await signOutSession(tx, hashToken(token), this.clock.now());
      await this.audit.append(tx, {
        actor: auth.actor,
        action: "merchant_user.signed_out",
        target: auth.keyId,
        data: { merchantId: auth.merchantId },
      });
    });
  }

  /** The signed-in user (GET /v1/dashboard/me). */
  async me(auth: MerchantAuth): Promise<MerchantUserRow> {
    const user = isId("merchantUser", auth.keyId) ? await findUser(this.db, auth.keyId) : null;
    if (!user || user.merchantId !== auth.merchantId) throw new ApiError("resource_missing", "No such dashboard user.");
    return user;
  }

  /** Forgets challenges and sessions past their end, and sign-in attempts past their window (maintenance). */
  async purgeExpired(): Promise<number> {
    const now = this.clock.now();
    const rows = await purgeExpired(this.db, now);
    return rows + (await this.#password.sweep(now));
  }

  private challengeInvalid(): ApiError {
    return new ApiError(
      "sign_in_challenge_invalid",
      "The sign-in challenge is unknown, used or expired; sign in with your password again.",
      "challenge",
    );
  }

  private async auditFailure(user: MerchantUserRow | null, email: string, reason: string): Promise<void> {
    await this.db.transaction((tx) =>
      this.audit.append(tx, {
        actor: user ? `merchant_user:${user.id}` : "anonymous",
        action: "merchant_user.sign_in_failed",
        target: user?.id ?? null,
        data: { email, reason, ...(user ? { merchantId: user.merchantId } : {}) },
      }),
    );
  }
}
