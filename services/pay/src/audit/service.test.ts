import { sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { queryRows } from "../db/client.ts";
import { testBackends } from "../testing/databases.ts";
import { openTestPay, type TestPay } from "../testing/system.ts";

const encoder = new TextEncoder();

/**
 * An attacker with the database (but not the key provider) edits, deletes or reorders audit entries and heads; the
 * append-only triggers stop the application, so the attacker first disables them, as a database owner could.
 */
describe.each(testBackends())("audit log [%s]", (backend) => {
  let t: TestPay;
  const db = () => t.system.database.db;
  const asOwner = async (...statements: ReturnType<typeof sql>[]) => {
    await db().execute(sql`alter table audit_log disable trigger audit_log_append_only`);
    await db().execute(sql`alter table audit_signed_heads disable trigger audit_signed_heads_append_only`);
    for (const statement of statements) await db().execute(statement);
    await db().execute(sql`alter table audit_log enable trigger audit_log_append_only`);
    await db().execute(sql`alter table audit_signed_heads enable trigger audit_signed_heads_append_only`);
  };
  const kinds = async (witnessed: string[] = []) =>
    (await t.system.audit.verify(witnessed)).problems.map((p) => p.kind);
  const headJws = async (size: number) =>
    (await queryRows<{ jws: string }>(db(), sql`select jws from audit_signed_heads where size = ${size}`))[0]!.jws;
  const count = async (table: "audit_log" | "audit_signed_heads") =>
    Number((await queryRows<{ n: number }>(db(), sql`select count(*)::int as n from ${sql.identifier(table)}`))[0]!.n);

  beforeAll(async () => {
    t = await openTestPay(backend);
  });
  afterAll(() => t.close());

  beforeEach(async () => {
    // A clean chain of a known length for every case.
    await asOwner(
      sql`delete from audit_log`,
      sql`delete from audit_signed_heads`,
      sql`delete from audit_heads`,
      sql`delete from audit_pending`,
    );
    for (let i = 1; i <= 6; i++)
      await t.system.audit.record({
        actor: "operator:test",
        action: "admin.action",
        target: `thing-${i}`,
        data: { i },
      });
    expect(await t.system.audit.verify()).toMatchObject({ ok: true, entries: 6, heads: 6 });
  });

  it("signs a head for every append, stating size, newest hash, time and key", async () => {
    const rows = await queryRows<{ size: number; hash: string; kid: string }>(
      db(),
      sql`select size::int as size, hash, kid from audit_signed_heads order by size`,
    );
    const entries = await queryRows<{ hash: string }>(db(), sql`select hash from audit_log order by seq`);
    const key = await t.system.audit.publicKey();
    expect(rows.map((r) => r.size)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(rows.map((r) => r.hash)).toEqual(entries.map((e) => e.hash));
    expect(new Set(rows.map((r) => r.kid))).toEqual(new Set([key.kid]));
    const payload = JSON.parse(Buffer.from((await headJws(6)).split(".")[1]!, "base64url").toString()) as Record<
      string,
      unknown
    >;
    expect(payload).toEqual({
      chain: "main",
      size: 6,
      hash: entries[5]!.hash,
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
  });

  it("refuses updates and deletes from the application, of entries and of heads", async () => {
    const failure = (statement: ReturnType<typeof sql>) =>
      db()
        .execute(statement)
        .then(
          () => "succeeded",
          (e: Error & { cause?: Error }) => e.cause?.message ?? e.message,
        );
    expect(await failure(sql`update audit_log set actor = 'x' where seq = 1`)).toMatch(/append-only/);
    expect(await failure(sql`delete from audit_log where seq = 1`)).toMatch(/append-only/);
    expect(await failure(sql`update audit_signed_heads set hash = 'x' where size = 1`)).toMatch(/append-only/);
    expect(await failure(sql`delete from audit_signed_heads where size = 6`)).toMatch(/append-only/);
  });

  it("detects an edited entry", async () => {
    await asOwner(sql`update audit_log set data = '{"i": 99}'::jsonb where seq = 3`);
    expect(await kinds()).toContain("edited");
  });

  it("detects a deleted entry in the middle", async () => {
    await asOwner(sql`delete from audit_log where seq = 2`);
    expect(await kinds()).toContain("deleted");
  });

  it("detects deletion of the newest entries", async () => {
    await asOwner(sql`delete from audit_log where seq >= 5`);
    expect(await kinds()).toContain("truncated");
  });

  it("detects reordering", async () => {
    await asOwner(
      sql`update audit_log set seq = -3 where seq = 3`,
      sql`update audit_log set seq = 3 where seq = 4`,
      sql`update audit_log set seq = 4 where seq = -3`,
    );
    expect((await t.system.audit.verify()).ok).toBe(false);
  });

  it("detects a chain rewritten consistently without the key: its heads do not verify", async () => {
    // The attacker re-chains from entry 4 and puts the new hashes into the heads, but cannot sign them.
    const rows = await queryRows<{ seq: number; at: string; prev_hash: string }>(
      db(),
      sql`select seq, at, prev_hash from audit_log where seq >= 4 order by seq`,
    );
    const { entryHash } = await import("./chain.ts");
    let prev = rows[0]!.prev_hash;
    const statements: ReturnType<typeof sql>[] = [];
    for (const row of rows) {
      const fields = {
        seq: row.seq,
        at: row.at,
        actor: "operator:test",
        action: "admin.action",
        target: `thing-${row.seq}`,
        data: { i: row.seq, quiet: true },
      };
      const hash = entryHash(prev, fields);
      const [header, , signature] = (await headJws(row.seq)).split(".");
      const forged = `${header}.${Buffer.from(JSON.stringify({ chain: "main", size: row.seq, hash, timestamp: row.at })).toString("base64url")}.${signature}`;
      statements.push(
        sql`update audit_log set data = ${JSON.stringify(fields.data)}::jsonb, prev_hash = ${prev}, hash = ${hash} where seq = ${row.seq}`,
      );
      statements.push(sql`update audit_signed_heads set hash = ${hash}, jws = ${forged} where size = ${row.seq}`);
      prev = hash;
    }
    await asOwner(...statements);
    const found = await kinds();
    expect(found).toContain("head_forged");
    expect(found).toContain("head_mismatch"); // the newest head that still verifies (size 3) is followed by unsigned entries
  });

  it("refuses to extend a newest head that was changed in the database, and appends nothing", async () => {
    const [header, payload] = (await headJws(6)).split(".");
    await asOwner(sql`update audit_signed_heads set jws = ${`${header}.${payload}.${"A".repeat(86)}`} where size = 6`);
    const refused = await t.system.audit.record({ actor: "operator:test", action: "admin.action" }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(refused).toMatchObject({ code: "audit_head_invalid", statusCode: 503 });
    expect(await count("audit_log")).toBe(6);
    expect(await count("audit_signed_heads")).toBe(6);
  });

  it("cannot tell a truncation back to an older signed head on its own, but the witnessed newer head catches it", async () => {
    const witnessed = [await headJws(6)];
    await asOwner(sql`delete from audit_log where seq > 4`, sql`delete from audit_signed_heads where size > 4`);
    expect(await t.system.audit.verify()).toMatchObject({ ok: true, entries: 4 }); // what the witness is for
    const report = await t.system.audit.verify(witnessed);
    expect(report).toMatchObject({ ok: false, witnessedHeads: 1 });
    expect(report.problems.map((p) => p.kind)).toEqual(["witnessed_head_missing"]);
  });

  it("reports a witnessed head that this key did not sign", async () => {
    const [header, payload] = (await headJws(2)).split(".");
    const report = await t.system.audit.verify([`${header}.${payload}.${"B".repeat(86)}`]);
    expect(report.problems.map((p) => p.kind)).toEqual(["witnessed_head_invalid"]);
  });

  it("carries a log from before heads were signed over: its MACed head is checked, then extended by a signed head", async () => {
    // The log as the previous release left it: entries, one MACed head, no signed head.
    const [last] = await queryRows<{ hash: string }>(db(), sql`select hash from audit_log where seq = 6`);
    const mac = await t.system.keys.mac("audit-head", encoder.encode(`mpay-audit-head/v1|main|6|${last!.hash}`));
    await asOwner(sql`delete from audit_signed_heads`);
    await db().execute(
      sql`insert into audit_heads (chain, seq, hash, tag, key_version) values ('main', 6, ${last!.hash}, ${mac.tag}, ${mac.keyVersion})`,
    );
    expect(await t.system.audit.verify()).toMatchObject({ ok: true, entries: 6, heads: 0 });

    await t.system.audit.record({ actor: "operator:test", action: "admin.action", target: "thing-7" });
    expect(await t.system.audit.verify()).toMatchObject({ ok: true, entries: 7, heads: 1 });

    // A MAC made without the key fails both the check and the next append.
    await asOwner(sql`delete from audit_signed_heads`, sql`delete from audit_log where seq = 7`);
    await db().execute(sql`update audit_heads set tag = ${mac.tag.replace(/^./, (c) => (c === "A" ? "B" : "A"))}`);
    expect(await kinds()).toContain("head_forged");
    await expect(t.system.audit.record({ actor: "operator:test", action: "admin.action" })).rejects.toMatchObject({
      code: "audit_head_invalid",
    });
  });
});
