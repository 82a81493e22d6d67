/**
 * Limits on password guessing, per phone number and per client IP, kept in the database so that every messenger
 * process shares them. An attempt counts when it *starts* (before the password is checked) and a success takes
 * it back, so concurrent guesses cannot slip past the limit: the sixth of six simultaneous tries is refused.
 * Counters run in fixed windows; keys are SHA-256 hashes (numbers people mistyped are not kept in clear).
 */
import { createHash } from "node:crypto";
import { lte, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { loginThrottle } from "../db/schema.ts";
import type { LoginLimits } from "../config.ts";
import { normalizePhoneNumber } from "../accounts/phone.ts";

export interface AttemptKeys {
  phone: string;
  ip: string;
}

function hashed(kind: "phone" | "ip", value: string): string {
  return `${kind}:${createHash("sha256").update(value).digest("base64url")}`;
}

export function attemptKeys(phoneInput: string, ip: string): AttemptKeys {
  const phone = normalizePhoneNumber(phoneInput) ?? phoneInput.trim().toLowerCase();
  return { phone: hashed("phone", phone), ip: hashed("ip", ip) };
}

export class LoginThrottle {
  constructor(
    private readonly db: Db,
    private readonly limits: LoginLimits,
  ) {}

  /** Counts one attempt for both keys; false when either is over its limit (the password must not be checked). */
  async begin(keys: AttemptKeys): Promise<boolean> {
    const window = this.limits.windowSeconds;
    const result = await this.db.execute(sql`
      insert into login_throttle (key, failures, window_started_at)
      values (${keys.phone}, 1, now()), (${keys.ip}, 1, now())
      on conflict (key) do update set
        failures = case when login_throttle.window_started_at <= now() - make_interval(secs => ${window})
                        then 1 else login_throttle.failures + 1 end,
        window_started_at = case when login_throttle.window_started_at <= now() - make_interval(secs => ${window})
                                 then now() else login_throttle.window_started_at end
      returning key, failures`);
    const rows = (result as unknown as { rows: Array<{ key: string; failures: number }> }).rows;
    const count = (key: string) => rows.find((row) => row.key === key)?.failures ?? 0;
    return count(keys.phone) <= this.limits.perPhone && count(keys.ip) <= this.limits.perIp;
  }

  /** A correct password: the number's failures are forgiven, and this attempt no longer counts for the address. */
  async succeeded(keys: AttemptKeys): Promise<void> {
    await this.db.execute(sql`
      update login_throttle set failures = case when key = ${keys.phone} then 0 else greatest(failures - 1, 0) end
      where key in (${keys.phone}, ${keys.ip})`);
  }

  /** Deletes windows that ended; returns how many. */
  async sweep(): Promise<number> {
    const deleted = await this.db
      .delete(loginThrottle)
      .where(lte(loginThrottle.windowStartedAt, sql`now() - make_interval(secs => ${this.limits.windowSeconds})`))
      .returning({ key: loginThrottle.key });
    return deleted.length;
  }
}
