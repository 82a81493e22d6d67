/**
 * The period claim on its own, without the card's row lock that an authorization also takes: concurrent
 * transactions (separate connections on PostgreSQL) each claim a charge, and the period's count and total hold
 * exactly. This is what keeps a schedule race-free even where no other lock serialises the charges.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshDatabase, testBackends, type FreshDatabase } from "@mpay/service-kit/testing";
import { openIssuerDatabase, type Database } from "../db/client.ts";
import { claimPeriodCharge, periodUsage, releasePeriodCharge } from "./store.ts";

describe.each(testBackends())("period claims of recurring tokens [%s]", (backend) => {
  let fresh: FreshDatabase;
  let database: Database;
  const periodStart = new Date(Date.UTC(2026, 11, 1));

  beforeAll(async () => {
    fresh = await freshDatabase(backend, "issuer_test");
    database = await openIssuerDatabase({ issuerId: "sampo", url: fresh.url, dataDir: undefined, poolSize: 12 });
  });
  afterAll(async () => {
    await database?.close();
    await fresh?.drop();
  });

  /** `n` claims at once, each in its own transaction that holds its row a moment before committing. */
  const claimAtOnce = (n: number, claim: { tokenId: string; amount: number; maxCharges: number; maxTotal: number }) =>
    Promise.all(
      Array.from({ length: n }, () =>
        database.db.transaction(async (tx) => {
          const claimed = await claimPeriodCharge(tx, { ...claim, periodStart });
          await new Promise((resolve) => setTimeout(resolve, 5));
          return claimed;
        }),
      ),
    );

  it("grants exactly the period's count to concurrent claims", async () => {
    const claims = await claimAtOnce(30, { tokenId: "rtk_count", amount: 100, maxCharges: 5, maxTotal: 1_000_000 });
    expect(claims.filter(Boolean)).toHaveLength(5);
    expect(await periodUsage(database.db, "rtk_count", periodStart)).toEqual({ charges: 5, total: 500 });
  });

  it("grants concurrent claims only up to the period's total", async () => {
    const claims = await claimAtOnce(30, { tokenId: "rtk_total", amount: 3_000, maxCharges: 100, maxTotal: 10_000 });
    expect(claims.filter(Boolean)).toHaveLength(3);
    expect(await periodUsage(database.db, "rtk_total", periodStart)).toEqual({ charges: 3, total: 9_000 });
  });

  it("refuses a first charge above the total, keeps periods apart, and gives a released claim back", async () => {
    expect(
      await claimPeriodCharge(database.db, {
        tokenId: "rtk_misc",
        periodStart,
        amount: 10_001,
        maxCharges: 3,
        maxTotal: 10_000,
      }),
    ).toBe(false);
    expect(await periodUsage(database.db, "rtk_misc", periodStart)).toEqual({ charges: 0, total: 0 });
    const claim = { tokenId: "rtk_misc", periodStart, amount: 10_000, maxCharges: 1, maxTotal: 10_000 };
    expect(await claimPeriodCharge(database.db, claim)).toBe(true);
    expect(await claimPeriodCharge(database.db, claim)).toBe(false);
    const nextMonth = new Date(Date.UTC(2027, 0, 1));
    expect(await claimPeriodCharge(database.db, { ...claim, periodStart: nextMonth })).toBe(true);
    await releasePeriodCharge(database.db, claim);
    expect(await periodUsage(database.db, "rtk_misc", periodStart)).toEqual({ charges: 0, total: 0 });
    expect(await claimPeriodCharge(database.db, claim)).toBe(true);
  });
});
