/**
 * The claim rule itself, on PGlite and on PostgreSQL: N concurrent claims against a limit L → exactly L slots, the
 * rest refused with nothing written; several subjects are all or nothing; the window slides on the caller's clock.
 * On PostgreSQL the claims come from two pools (two processes' worth of connections) at once.
 */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, queryRows, type Database } from "./database.ts";
import { LimitSlots, limitSlotsTable, type SlotLimit } from "./limit-slots.ts";
import { freshDatabase, testBackends, type FreshDatabase } from "./test-databases.ts";

const slotsTable = limitSlotsTable("test_limit_slots");
const schema = { slotsTable };
const HOUR = 3600;

describe.each(testBackends())("limit slots [%s]", (backend) => {
  let fresh: FreshDatabase;
  /** Two handles on one database: on PostgreSQL two pools, as two server processes would have. */
  const databases: Array<Database<typeof schema>> = [];
  const slots = new LimitSlots(slotsTable);
  const db = (i = 0) => databases[i % databases.length]!.db;
  let subjects = 0;
  const subject = () => `payer:usr_${backend}_${++subjects}`;
  const rowsOf = async (who: string) =>
    queryRows<{ kind: string }>(db(), sql`select kind from test_limit_slots where subject = ${who}`);

  beforeAll(async () => {
    fresh = await freshDatabase(backend, "kit_test");
    databases.push(await openDatabase({ schema, url: fresh.url, poolSize: 10 }));
    if (fresh.url) databases.push(await openDatabase({ schema, url: fresh.url, poolSize: 10 }));
    await db().execute(
      sql.raw(
        "create table test_limit_slots (id bigserial primary key, subject text not null, kind text not null, at timestamptz not null)",
      ),
    );
    await db().execute(sql.raw("create index test_limit_slots_subject on test_limit_slots (subject, kind, at)"));
  });
  afterAll(async () => {
    await Promise.all(databases.map((d) => d.close()));
    await fresh?.drop();
  });

  it("grants exactly the limit to 60 concurrent claims and writes nothing for the rest", async () => {
    const who = subject();
    const limit: SlotLimit = { subject: who, kind: "try", max: 7, windowSeconds: HOUR };
    const now = new Date();
    const claims = await Promise.all(Array.from({ length: 60 }, (_, i) => slots.claim(db(i), [limit], now)));
    expect(claims.filter((c) => c !== null)).toHaveLength(7);
    expect(await rowsOf(who)).toHaveLength(7);
    expect(await slots.used(db(), limit, now)).toBe(7);
  });

  it("claims every subject or none, also when claims over overlapping subjects race", async () => {
    const card = subject();
    const devices = [subject(), subject(), subject()];
    const now = new Date();
    // Each claim takes one device slot and one card slot; the card allows 4, each device 10.
    const claims = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        slots.claim(
          db(i),
          [
            { subject: devices[i % 3]!, kind: "failure", max: 10, windowSeconds: HOUR },
            { subject: card, kind: "failure", max: 4, windowSeconds: HOUR },
          ],
          now,
        ),
      ),
    );
    expect(claims.filter((c) => c !== null)).toHaveLength(4);
    expect(await rowsOf(card)).toHaveLength(4);
    let deviceSlots = 0;
    for (const device of devices) deviceSlots += (await rowsOf(device)).length;
    expect(deviceSlots).toBe(4);
  });

  it("counts each kind on its own budget, and a full one refuses the whole claim", async () => {
    const card = subject();
    const now = new Date();
    const codes: SlotLimit = { subject: card, kind: "code_sent", max: 1, windowSeconds: HOUR };
    const failures: SlotLimit = { subject: card, kind: "failure", max: 5, windowSeconds: HOUR };
    expect(await slots.claim(db(), [codes], now)).toHaveLength(1);
    expect(await slots.claim(db(), [failures, codes], now)).toBeNull();
    expect(await rowsOf(card)).toEqual([{ kind: "code_sent" }]);
    expect(await slots.claim(db(), [failures], now)).toHaveLength(1);
  });

  it("frees a slot once the window has passed on the caller's clock, or when it is given back", async () => {
    const who = subject();
    const limit: SlotLimit = { subject: who, kind: "try", max: 2, windowSeconds: HOUR };
    const start = new Date();
    const first = await slots.claim(db(), [limit], start);
    expect(await slots.claim(db(), [limit], new Date(start.getTime() + 1000))).not.toBeNull();
    expect(await slots.claim(db(), [limit], new Date(start.getTime() + 2000))).toBeNull();
    // The first slot leaves the window an hour after it was claimed; the second a second later.
    expect(await slots.claim(db(), [limit], new Date(start.getTime() + HOUR * 1000 - 1))).toBeNull();
    const later = await slots.claim(db(), [limit], new Date(start.getTime() + HOUR * 1000));
    expect(later).not.toBeNull();
    await slots.release(db(), later!);
    expect(await slots.claim(db(), [limit], new Date(start.getTime() + HOUR * 1000))).not.toBeNull();
    expect(first).not.toBeNull();
    // Sweeping deletes what is older than every window, and only that.
    const swept = await slots.sweep(db(), new Date(start.getTime() + 500));
    expect(swept).toBeGreaterThanOrEqual(1);
    expect(await rowsOf(who)).toHaveLength(2);
  });

  it("holds the subject until the caller's transaction ends when claimed inside it", async () => {
    const who = subject();
    const limit: SlotLimit = { subject: who, kind: "failure", max: 1, windowSeconds: HOUR };
    const now = new Date();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let claimedInside: unknown;
    const inside = db().transaction(async (tx) => {
      claimedInside = await slots.claim(tx, [limit], now);
      await held; // the work of the transaction, while another claim comes in
    });
    // On PGlite the pool is the one connection the transaction holds, so a second claim only queues behind it:
    // start it after the first claim, then let the transaction commit.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const outside = slots.claim(db(1), [limit], now);
    await new Promise((resolve) => setTimeout(resolve, 100));
    release();
    await inside;
    expect(claimedInside).not.toBeNull();
    expect(await outside).toBeNull();
    expect(await rowsOf(who)).toHaveLength(1);
  });

  it("a claim rolled back with its transaction leaves no slot", async () => {
    const who = subject();
    const limit: SlotLimit = { subject: who, kind: "failure", max: 1, windowSeconds: HOUR };
    await expect(
      db().transaction(async (tx) => {
        await slots.claim(tx, [limit], new Date());
        throw new Error("the work failed");
      }),
    ).rejects.toThrow("the work failed");
    expect(await rowsOf(who)).toEqual([]);
    expect(await slots.claim(db(), [limit], new Date())).not.toBeNull();
  });
});
