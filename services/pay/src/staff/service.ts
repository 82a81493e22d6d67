/**
 * The pay company's staff and their console sessions (issue 10, deliverable 4). Staff are not merchants' users:
 * their own table, roles (`admin` creates and suspends merchants, `support` reads), `stc_` challenges and `sts_`
 * sessions (8 h absolute, 15 minutes idle), made only by the operator CLI (`mpay staff add`). Sign-in is the
 * dashboard's, through the shared pieces of credentials/: the attempt limit claimed before the password is
 * checked, one answer for every wrong email or password, a TOTP seed sealed by the key provider with its replay
 * guard, set up at the first sign-in. Every action is audited as `staff:stf_…`.
 */
import { Secret, newId } from "@mpay/protocol";
import type { Clock } from "@mpay/service-kit";
import type { AuditService } from "../audit/service.ts";
import type { Db, Executor } from "../db/client.ts";
import { ApiError } from "../http/errors.ts";
import type { KeyProvider } from "../keys/provider.ts";
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
import { STAFF_ROLES, staffSignInSlots, type StaffRole } from "./schema.ts";
import {
  acceptStaffTotpStep,
  endStaffChallenge,
  findStaff,
  findStaffByEmail,
  insertStaff,
  insertStaffChallenge,
  insertStaffSession,
  listStaff,
  lockStaffChallenge,
  purgeExpiredStaff,
  signOutStaffSession,
  touchStaffSession,
  writeStaffTotpSecret,
  type LiveStaffSession,
  type StaffRow,
} from "./store.ts";

export type { StaffRole } from "./schema.ts";
export type { LiveStaffSession, StaffRow } from "./store.ts";

export const STAFF_SESSION_TTL_MS = 8 * 3600_000;
export const STAFF_SESSION_IDLE_MS = 15 * 60_000;

export function staffTotpAad(staffId: string): string {
  return `staff-totp|${staffId}`;
}

/** Who a console request comes from (a resolved `sts_` session). */
export interface StaffAuth extends LiveStaffSession {
  /** As the audit log names it: `staff:stf_…`. */
  actor: string;
}

export interface StaffView {
  id: string;
  email: string;
  name: string;
  role: StaffRole;
}

export type StaffChallenge =
  | { object: "staff_sign_in_challenge"; challenge: string; factor: "totp" }
  | {
      object: "staff_sign_in_challenge";
      challenge: string;
      factor: "totp_setup";
      totpSetup: { secret: string; otpauthUri: string };
    };

export interface StaffSession {
  object: "staff_session";
  token: string;
  expiresAt: string;
  staff: StaffView;
}

function requireStaffRole(role: string): StaffRole {
  if (!(STAFF_ROLES as readonly string[]).includes(role))
    throw new ApiError("parameter_invalid", `role must be one of ${STAFF_ROLES.join(", ")}.`, "role");
  return role as StaffRole;
}

export function staffView(row: { id: string; email: string; name: string; role: StaffRole }): StaffView {
  return { id: row.id, email: row.email, name: row.name, role: row.role };
}

export class StaffService {
  readonly #password: PasswordStep;
  readonly #totp: SealedTotp;

  constructor(
    private readonly db: Db,
    keys: KeyProvider,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {
    this.#password = new PasswordStep(db, staffSignInSlots);
    this.#totp = new SealedTotp(keys, "staff-totp");
  }

  /** `mpay staff add`: a staff member with a temporary password, answered once; TOTP is set at the first sign-in. */
  async create(input: {
    email: string;
    name: string;
    role: string;
    actor: string;
    /** Tests and the demo: a password chosen by the caller instead of a generated one. */
    password?: Secret<string>;
  }): Promise<{ staff: StaffRow; temporaryPassword: Secret<string> }> {
    const email = requireEmail(input.email);
    const name = requireName(input.name);
    const role = requireStaffRole(input.role);
    const password = input.password ?? new Secret(temporaryPassword());
    const passwordHash = await hashPassword(password.peek());
    return this.db.transaction(async (tx) => {
      const staff = await insertStaff(tx, { id: newId("staff"), email, name, role, passwordHash });
      if (!staff) throw new ApiError("staff_exists", "A staff member with this email already exists.", "email");
      await this.audit.append(tx, {
        actor: input.actor,
        action: "staff.created",
        target: staff.id,
        data: { email, role },
      });
      return { staff, temporaryPassword: password };
    });
  }

  list(): Promise<StaffRow[]> {
    return listStaff(this.db);
  }

  findByEmail(email: string): Promise<StaffRow | null> {
    return findStaffByEmail(this.db, normalEmail(email));
  }

  /**
   * Seals a TOTP seed as the staff member's, as if set up at a first sign-in (the demo admin, whose seed is written
   * to demo-users.json).
   */
  async setTotpSecret(staffId: string, secretBase32: Secret<string>): Promise<void> {
    const sealedTotpSecret = await this.#totp.seal(secretBase32.peek(), staffTotpAad(staffId));
    if (!(await writeStaffTotpSecret(this.db, staffId, sealedTotpSecret)))
      throw new ApiError("resource_missing", "No such staff member.");
  }

  /** Step one: email and password → a challenge for the TOTP step (or its setup), or `sign_in_failed`/`_locked`. */
  async signIn(emailInput: string, password: string): Promise<StaffChallenge> {
    const email = normalEmail(emailInput).slice(0, 254);
    const now = this.clock.now();
    const staff = await findStaffByEmail(this.db, email);
    const checked = await this.#password.check(email, password, staff, now);
    if (checked !== "ok" || !staff) {
      await this.db.transaction((tx) =>
        this.audit.append(tx, {
          actor: staff ? `staff:${staff.id}` : "anonymous",
          action: "staff.sign_in_failed",
          target: staff?.id ?? null,
          data: { email, reason: checked === "locked" ? "locked" : "password" },
        }),
      );
      if (checked === "locked")
        throw new ApiError("sign_in_locked", "Too many sign-in attempts for this email; try again in 15 minutes.");
      throw new ApiError("sign_in_failed", "The email or password is not right.");
    }
    const challenge = newToken("stc");
    const expiresAt = new Date(now.getTime() + CHALLENGE_TTL_MS);
    const tokenHash = hashToken(challenge);
    if (staff.sealedTotpSecret) {
      await insertStaffChallenge(this.db, { tokenHash, staffId: staff.id, factor: "totp", expiresAt });
      return { object: "staff_sign_in_challenge", challenge, factor: "totp" };
    }
    const offer = await this.#totp.offer(staffTotpAad(staff.id), staff.email);
    await insertStaffChallenge(this.db, {
      tokenHash,
      staffId: staff.id,
      factor: "totp_setup",
      sealedSetupSecret: offer.sealed,
      expiresAt,
    });
    return {
      object: "staff_sign_in_challenge",
      challenge,
      factor: "totp_setup",
      totpSetup: { secret: offer.secret, otpauthUri: offer.otpauthUri },
    };
  }

  /** Step two: the challenge and a TOTP code → a console session. */
  async confirmTotp(challenge: string, code: string): Promise<StaffSession> {
    if (!isToken("stc", challenge)) throw challengeInvalid();
    const tokenHash = hashToken(challenge);
    const now = this.clock.now();
    const outcome = await this.db.transaction(async (tx) => {
      const row = await lockStaffChallenge(tx, tokenHash);
      if (!row || row.usedAt || row.expiresAt <= now) return null;
      const staff = await findStaff(tx, row.staffId);
      const sealed = row.factor === "totp_setup" ? row.sealedSetupSecret : staff?.sealedTotpSecret;
      if (!staff || staff.disabled || !sealed) return null;
      const step = await this.#totp.step(sealed, staffTotpAad(staff.id), code, now);
      const accepted =
        step !== null &&
        (await acceptStaffTotpStep(tx, staff.id, step, now, row.factor === "totp_setup" ? sealed : undefined));
      if (!accepted) {
        await endStaffChallenge(tx, tokenHash, now, { failedOf: CHALLENGE_MAX_FAILURES });
        await this.audit.append(tx, {
          actor: `staff:${staff.id}`,
          action: "staff.sign_in_failed",
          target: staff.id,
          data: { reason: step === null ? "totp" : "totp_replayed" },
        });
        return "code" as const;
      }
      await endStaffChallenge(tx, tokenHash, now, "used");
      return this.openSession(tx, staff, row.factor);
    });
    if (outcome === null) throw challengeInvalid();
    if (outcome === "code")
      throw new ApiError("totp_invalid", "The authenticator code is not right, or was already used.", "code");
    await this.#password.forget(outcome.staff.email);
    return outcome;
  }

  private async openSession(tx: Executor, staff: StaffRow, method: string): Promise<StaffSession> {
    const now = this.clock.now();
    const token = newToken("sts");
    const expiresAt = new Date(now.getTime() + STAFF_SESSION_TTL_MS);
    await insertStaffSession(tx, { tokenHash: hashToken(token), staffId: staff.id, expiresAt, lastSeenAt: now });
    await this.audit.append(tx, {
      actor: `staff:${staff.id}`,
      action: "staff.signed_in",
      target: staff.id,
      data: { method },
    });
    return { object: "staff_session", token, expiresAt: expiresAt.toISOString(), staff: staffView(staff) };
  }

  /**
   * `Authorization: Bearer sts_…` to its staff member, or `staff_session_invalid` (401): a merchant's key or
   * dashboard session is no console credential. Moves the idle end forward.
   */
  async authenticate(header: string | undefined): Promise<StaffAuth> {
    const token = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "")?.[1] ?? "";
    const now = this.clock.now();
    const live = isToken("sts", token)
      ? await touchStaffSession(this.db, hashToken(token), now, new Date(now.getTime() - STAFF_SESSION_IDLE_MS))
      : null;
    if (!live)
      throw new ApiError(
        "staff_session_invalid",
        "Send a console session as `Authorization: Bearer sts_…`; it is unknown, signed out or expired: sign in again.",
      );
    return { ...live, actor: `staff:${live.staffId}` };
  }

  async signOut(header: string | undefined, auth: StaffAuth): Promise<void> {
    const token = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "")?.[1] ?? "";
    await this.db.transaction(async (tx) => {
      await signOutStaffSession(tx, hashToken(token), this.clock.now());
      await this.audit.append(tx, { actor: auth.actor, action: "staff.signed_out", target: auth.staffId, data: {} });
    });
  }

  /** Forgets challenges and sessions past their end, and attempts past their window (maintenance). */
  async purgeExpired(): Promise<number> {
    const now = this.clock.now();
    return (await purgeExpiredStaff(this.db, now)) + (await this.#password.sweep(now));
  }
}

function challengeInvalid(): ApiError {
  return new ApiError(
    "sign_in_challenge_invalid",
    "The sign-in challenge is unknown, used or expired; sign in with your password again.",
    "challenge",
  );
}
