/**
 * The PIN's try counter under concurrent logins (DESIGN.md "PIN": the counter changes atomically, no race grants a
 * sixth try; issue 7), on PGlite and on PostgreSQL from two connection pools at once, as two pay-server processes
 * would count. A try is one conditional UPDATE (`failed_tries < 5`), in the same statement that stores the login it
 * starts, so it needs no slot table: the row is the subject and its lock is the claim. (Over HTTP with OPAQUE: pin.test.ts, "PIN lock race".)
 */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newId } from "@mpay/protocol";
import { migrateDatabase, openDatabase, queryRows, type Database } from "../db/client.ts";
import { upsertPayer } from "../payers/store.ts";
import { freshDatabase, testBackends, type FreshDatabase } from "../testing/databases.ts";
import { MAX_PIN_TRIES, clearTries, countTryAndPutLogin, insertPin, markLocked } from "./store.ts";

describe.each(testBackends())("the PIN's try counter under concurrent logins [%s]", (backend) => {
  let fresh: FreshDatabase;
  const databases: Database[] = [];
  const db = (i = 0) => databases[i % databases.length]!.db;

  async function payerWithPin(): Promise<string> {
    const payer = await upsertPayer(db(), {
      id: newId("payer"),
      messengerSubject: `acct_${newId("payer")}`,
      displayName: "Kim Minji",
      phoneNumber: null,
    });
    expect(await insertPin(db(), payer.id, "A".repeat(256))).toBe(true);
    return payer.id;
  }
  const row = async (payerId: string) =>
    (
      await queryRows<{ failed_tries: number; locked: boolean }>(
        db(),
        sql`select failed_tries, locked_at is not null as locked from payer_pins where payer_id = ${payerId}`,
      )
    )[0];

  let logins = 0;
  /** A login start's try: counted and its login stored in one statement (what PinService.startLogin runs). */
  const countTry = async (database: Parameters<typeof countTryAndPutLogin>[0], payerId: string) =>
    (await start(database, payerId)).counted;
  const start = (database: Parameters<typeof countTryAndPutLogin>[0], payerId: string) =>
    countTryAndPutLogin(database, {
      payerId,
      loginId: `pl_${++logins}`,
      sealedState: "sealed",
      purpose: `pin-check`,
      againstPrevious: false,
      expiresAt: new Date(Date.now() + 60_000),
    });

  beforeAll(async () => {
    fresh = await freshDatabase(backend);
    databases.push(await openDatabase({ url: fresh.url, poolSize: 10 }));
    await migrateDatabase(databases[0]!);
    if (fresh.url) databases.push(await openDatabase({ url: fresh.url, poolSize: 10 }));
  });
  afterAll(async () => {
    await Promise.all(databases.map((d) => d.close()));
    await fresh?.drop();
  });

  it(`counts exactly ${MAX_PIN_TRIES} of 100 concurrent tries, each number once, and never a sixth`, async () => {
    const payerId = await payerWithPin();
    const counted = await Promise.all(Array.from({ length: 100 }, (_, i) => countTry(db(i), payerId)));
    expect(counted.filter((c) => c !== null).sort()).toEqual([1, 2, 3, 4, 5]);
    expect(await row(payerId)).toEqual({ failed_tries: MAX_PIN_TRIES, locked: false });
    expect(await countTry(db(1), payerId)).toBeNull();
  });

  it("stores the login of each counted try only, one outstanding; a start names the unverified login it replaced", async () => {
    const payerId = await payerWithPin();
    const started = await Promise.all(Array.from({ length: 40 }, (_, i) => start(db(i), payerId)));
    expect(
      started
        .map((s) => s.counted)
        .filter((c) => c !== null)
        .sort(),
    ).toEqual([1, 2, 3, 4, 5]);
    // A start refused at the lock stores nothing and replaces nothing.
    expect(started.filter((s) => s.counted === null).every((s) => s.replaced === null)).toBe(true);
    const stored = await queryRows<{ n: number }>(
      db(),
      sql`select count(*)::int as n from pin_logins where payer_id = ${payerId}`,
    );
    expect(stored[0]?.n).toBe(1);
    // One after the other, each start names the login it replaced (its try is then audited as failed).
    const other = await payerWithPin();
    expect(await start(db(), other)).toEqual({ counted: 1, replaced: null });
    expect(await start(db(1), other)).toEqual({ counted: 2, replaced: "pin-check" });
  });

  it("locks once, however many requests see the fifth try, and a verified finish arriving after the lock does not reopen it", async () => {
    const payerId = await payerWithPin();
    for (let i = 0; i < MAX_PIN_TRIES; i++) await countTry(db(), payerId);
    const locks = await Promise.all(Array.from({ length: 20 }, (_, i) => markLocked(db(i), payerId)));
    expect(locks.filter(Boolean)).toHaveLength(1);
    // The finish of a login counted before the lock (the right PIN, slow to arrive) comes too late.
    await clearTries(db(1), payerId);
    expect(await row(payerId)).toEqual({ failed_tries: MAX_PIN_TRIES, locked: true });
    expect(await countTry(db(), payerId)).toBeNull();
  });
});
