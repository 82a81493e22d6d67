/**
 * Group commit (issue 11): `append` only inserts a pending entry in the caller's transaction; sealers link pending
 * entries into the one chain in batches, one signed head per batch. Two sealers at once (two AuditServices over
 * their own connections, as two processes would be) must make one linear chain with every committed entry exactly
 * once; a rolled-back append never appears; an entry kept out of the chain too long is a finding of `verify`.
 */
import { sql } from "drizzle-orm";
import pg from "pg";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestClock } from "@mpay/service-kit";
import { queryRows } from "../db/client.ts";
import { testBackends } from "../testing/databases.ts";
import { openTestPay, type TestPay } from "../testing/system.ts";
import { AuditSealer } from "./sealer.ts";
import { AuditService } from "./service.ts";

describe.each(testBackends())("audit group commit [%s]", (backend) => {
  let t: TestPay;
  const clock = new TestClock();
  const db = () => t.system.database.db;
  const audit = () => t.system.audit;
  const kinds = async () => (await audit().verify()).problems.map((p) => p.kind);
  const count = async (query: ReturnType<typeof sql>) => (await queryRows<{ n: number }>(db(), query))[0]!.n;
  const appendCommitted = (target: string, service = audit()) =>
    db().transaction((tx) => service.append(tx, { actor: "operator:test", action: "admin.action", target }));

  beforeAll(async () => {
    t = await openTestPay(backend, { clock });
  });
  afterAll(() => t.close());

  it("appends from 50 transactions at once while two sealers seal: one linear chain, every entry exactly once", async () => {
    const other = new AuditService(db(), t.system.keys, clock); // a second process's sealer: its own lock turns
    const before = (await audit().verify()).entries;
    const n = 50;
    await Promise.all([
      ...Array.from({ length: n }, (_, i) =>
        db().transaction((tx) =>
          (i % 2 ? other : audit()).append(tx, {
            actor: "operator:test",
            action: "admin.concurrent",
            target: `c-${i}`,
            data: { i },
          }),
        ),
      ),
      ...Array.from({ length: 5 }, (_, i) =>
        (i % 2 ? other : audit()).record({ actor: "operator:test", action: "admin.recorded", target: `r-${i}` }),
      ),
      ...Array.from({ length: 8 }, (_, i) => (i % 2 ? other : audit()).seal()),
    ]);
    await Promise.all([audit().seal(), other.seal()]);

    expect(await audit().verify()).toMatchObject({ ok: true, entries: before + n + 5, problems: [] });
    const targets = await queryRows<{ target: string }>(
      db(),
      sql`select target from audit_log where action = 'admin.concurrent' order by target`,
    );
    expect(targets.map((r) => r.target)).toEqual(Array.from({ length: n }, (_, i) => `c-${i}`).sort());
    expect(await count(sql`select count(*)::int as n from audit_log where action = 'admin.recorded'`)).toBe(5);
    expect(await count(sql`select count(*)::int as n from audit_pending`)).toBe(0);
    // seqs 1…size without a gap; each head states the hash of the entry at its size; sizes only grow.
    const seqs = await queryRows<{ seq: number; hash: string }>(
      db(),
      sql`select seq::int as seq, hash from audit_log order by seq`,
    );
    expect(seqs.map((r) => r.seq)).toEqual(Array.from({ length: before + n + 5 }, (_, i) => i + 1));
    const heads = await queryRows<{ size: number; hash: string }>(
      db(),
      sql`select size::int as size, hash from audit_signed_heads order by size`,
    );
    for (const head of heads) expect(head.hash).toBe(seqs[head.size - 1]!.hash);
    expect(heads.at(-1)!.size).toBe(before + n + 5);
    expect(heads.length).toBeLessThanOrEqual(before + n + 5); // a head per batch, not per entry
  });

  it("never chains the pending entry of a transaction that rolled back", async () => {
    const refused = await db()
      .transaction(async (tx) => {
        await audit().append(tx, { actor: "operator:test", action: "admin.rolled_back", target: "gone" });
        throw new Error("the change it records failed");
      })
      .catch((e: Error) => e.message);
    expect(refused).toBe("the change it records failed");
    await appendCommitted("kept");
    expect(await audit().seal()).toBe(1);
    expect(await count(sql`select count(*)::int as n from audit_log where target = 'gone'`)).toBe(0);
    expect(await count(sql`select count(*)::int as n from audit_pending`)).toBe(0);
    expect(await count(sql`select count(*)::int as n from audit_log where target = 'kept'`)).toBe(1);
    expect((await audit().verify()).ok).toBe(true);
  });

  it("seals shortly after an append in a process whose sealer runs, with no reader asking", async () => {
    const sealer = new AuditSealer(audit(), pino({ level: "silent" }), { sweepMs: 3_600_000 }); // the trigger only
    sealer.start();
    try {
      await appendCommitted("triggered");
      await expect
        .poll(() => count(sql`select count(*)::int as n from audit_log where target = 'triggered'`), {
          timeout: 30_000,
          interval: 20,
        })
        .toBe(1);
    } finally {
      await sealer.stop();
    }
  });

  it("reports an entry that stays unsealed past the bound (the head it must extend was changed), and appends stop", async () => {
    const [newest] = await queryRows<{ size: number; jws: string }>(
      db(),
      sql`select size::int as size, jws from audit_signed_heads order by size desc limit 1`,
    );
    await appendCommitted("stuck");
    const [header, payload] = newest!.jws.split(".");
    const asOwner = async (statement: ReturnType<typeof sql>) => {
      await db().execute(sql`alter table audit_signed_heads disable trigger audit_signed_heads_append_only`);
      await db().execute(statement);
      await db().execute(sql`alter table audit_signed_heads enable trigger audit_signed_heads_append_only`);
    };
    await asOwner(
      sql`update audit_signed_heads set jws = ${`${header}.${payload}.${"A".repeat(86)}`} where size = ${newest!.size}`,
    );
    expect(await kinds()).toContain("head_forged");
    expect(await kinds()).not.toContain("unsealed"); // within the bound: still on its way
    // The sealer found the head invalid: nothing audited is done until someone looks.
    await expect(appendCommitted("refused")).rejects.toMatchObject({ code: "audit_head_invalid" });

    clock.advance(61);
    const report = await audit().verify();
    expect(report.ok).toBe(false);
    expect(report.problems).toContainEqual(
      expect.objectContaining({ kind: "unsealed", seq: null, message: expect.stringMatching(/^1 appended entry/) }),
    );

    // The head put back, the next seal links the entry and appends work again.
    await asOwner(sql`update audit_signed_heads set jws = ${newest!.jws} where size = ${newest!.size}`);
    expect(await audit().seal()).toBe(1);
    expect(await audit().verify()).toMatchObject({ ok: true, problems: [] });
    await appendCommitted("after");
    expect(await audit().seal()).toBe(1);
  });

  // Two connections at once: PostgreSQL only (PGlite has one).
  if (backend === "postgres")
    it("skips a pending entry someone holds locked instead of waiting, and reports it once it is old", async () => {
      await appendCommitted("held");
      const holder = new pg.Client({ connectionString: t.config.databaseUrl });
      await holder.connect();
      try {
        await holder.query("begin");
        await holder.query("select id from audit_pending where target = 'held' for update");
        await appendCommitted("free");
        expect(await audit().seal()).toBe(1); // "free" is chained; the sealer did not wait for "held"
        expect(await kinds()).toEqual([]);
        clock.advance(61);
        expect(await kinds()).toEqual(["unsealed"]);
        await holder.query("rollback");
      } finally {
        await holder.end();
      }
      expect(await audit().seal()).toBe(1);
      expect(await audit().verify()).toMatchObject({ ok: true, problems: [] });
    });
});
