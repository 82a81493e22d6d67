/**
 * The password throttle on its own, on PGlite and on PostgreSQL from two connection pools at once (two messenger
 * processes): concurrent attempts claim exactly the limit per number and per address, a refused attempt writes
 * nothing, a success forgives the number, and the window slides on the configured clock. (Over the real sign-in
 * pages: signin.test.ts.)
 */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows, TestClock } from "@mpay/service-kit";
import { migrateDatabase, openDatabase, type Database } from "../db/client.ts";
import { freshDatabase, testBackends, type FreshDatabase } from "../testing/databases.ts";
import { attemptKeys, LoginThrottle } from "./throttle.ts";

const LIMITS = { perPhone: 5, perIp: 12, windowSeconds: 900 };

describe.each(testBackends())("the password throttle under concurrent attempts [%s]", (backend) => {
  let fresh: FreshDatabase;
  const databases: Database[] = [];
  const clock = new TestClock();
  const throttles: LoginThrottle[] = [];
  const throttle = (i = 0) => throttles[i % throttles.length]!;
  let phones = 0;
  const phone = () => `+8210${String(20_000_000 + ++phones)}`;
  const rows = async () =>
    Number(
      (await queryRows<{ n: number }>(databases[0]!.db, sql`select count(*)::int as n from login_attempt_slots`))[0]?.n,
    );

  beforeAll(async () => {
    fresh = await freshDatabase(backend);
    databases.push(await openDatabase({ url: fresh.url, poolSize: 10 }));
    await migrateDatabase(databases[0]!);
    if (fresh.url) databases.push(await openDatabase({ url: fresh.url, poolSize: 10 }));
    for (const database of databases) throttles.push(new LoginThrottle(database.db, LIMITS, clock));
  });
  afterAll(async () => {
    await Promise.all(databases.map((d) => d.close()));
    await fresh?.drop();
  });

  it(`lets exactly ${LIMITS.perPhone} of 40 concurrent guesses at one number be checked, and writes nothing for the rest`, async () => {
    const before = await rows();
    const attempts = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        throttle(i).begin(attemptKeys(`+82 10-${String(phones + 1).padStart(4, "0")}-0000`, `198.51.100.${i}`)),
      ),
    );
    phones++;
    expect(attempts.filter((a) => a !== null)).toHaveLength(LIMITS.perPhone);
    expect(await rows()).toBe(before + 2 * LIMITS.perPhone);
  });

  it(`lets exactly ${LIMITS.perIp} of 40 concurrent guesses from one address be checked, whichever numbers they try`, async () => {
    const attempts = await Promise.all(
      Array.from({ length: 40 }, (_, i) => throttle(i).begin(attemptKeys(phone(), "203.0.113.7"))),
    );
    expect(attempts.filter((a) => a !== null)).toHaveLength(LIMITS.perIp);
  });

  it("forgives the number on a success and gives the attempt back to the address", async () => {
    const number = phone();
    const keys = attemptKeys(number, "203.0.113.8");
    for (let i = 0; i < LIMITS.perPhone - 1; i++) expect(await throttle().begin(keys)).not.toBeNull();
    const right = await throttle(1).begin(keys);
    expect(right).not.toBeNull();
    expect(await throttle().begin(keys)).toBeNull();
    await throttle().succeeded(keys, right!);
    // The number has all its attempts again; the address keeps the four failures, not the success.
    for (let i = 0; i < LIMITS.perPhone; i++)
      expect(await throttle(i).begin(attemptKeys(number, "203.0.113.9"))).not.toBeNull();
    const address = await queryRows<{ n: number }>(
      databases[0]!.db,
      sql`select count(*)::int as n from login_attempt_slots where subject = ${keys.ip}`,
    );
    expect(Number(address[0]?.n)).toBe(LIMITS.perPhone - 1);
  });

  it("frees a number once the window has passed on the configured clock, and sweeps only then", async () => {
    const keys = attemptKeys(phone(), "203.0.113.10");
    for (let i = 0; i < LIMITS.perPhone; i++) await throttle().begin(keys);
    expect(await throttle().begin(keys)).toBeNull();
    expect(await throttle().sweep()).toBe(0);
    clock.advance(LIMITS.windowSeconds);
    expect(await throttle(1).begin(keys)).not.toBeNull();
    expect(await throttle().sweep()).toBeGreaterThanOrEqual(2 * LIMITS.perPhone);
  });
});
