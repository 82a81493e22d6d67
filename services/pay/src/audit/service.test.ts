import { sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { queryRows } from "../db/client.ts";
import { testBackends } from "../testing/databases.ts";
import { openTestPay, type TestPay } from "../testing/system.ts";

/**
 * An attacker with the database (but not the key provider) edits, deletes or reorders audit entries; the
 * append-only trigger stops the application, so the attacker first disables it, as a database owner could.
 */
describe.each(testBackends())("audit log [%s]", (backend) => {
  let t: TestPay;
  const db = () => t.system.database.db;
  const asAttacker = async (statement: ReturnType<typeof sql>) => {
    await db().execute(sql`alter table audit_log disable trigger audit_log_append_only`);
    await db().execute(statement);
    await db().execute(sql`alter table audit_log enable trigger audit_log_append_only`);
  };

  beforeAll(async () => {
    t = await openTestPay(backend);
  });
  afterAll(() => t.close());

  beforeEach(async () => {
    // A clean chain of a known length for every case.
    await db().execute(sql`alter table audit_log disable trigger audit_log_append_only`);
    await db().execute(sql`delete from audit_log`);
    await db().execute(sql`delete from audit_heads`);
    await db().execute(sql`alter table audit_log enable trigger audit_log_append_only`);
    for (let i = 1; i <= 6; i++) await t.system.audit.record({ actor: "operator:test", action: "admin.action", target: `thing-${i}`, data: { i } });
    expect((await t.system.audit.verify()).ok).toBe(true);
  });

  it("refuses updates and deletes from the application", async () => {
    const failure = (statement: ReturnType<typeof sql>) =>
      db().execute(statement).then(
        () => "succeeded",
        (e: Error & { cause?: Error }) => e.cause?.message ?? e.message,
      );
    expect(await failure(sql`update audit_log set actor = 'x' where seq = 1`)).toMatch(/append-only/);
    expect(await failure(sql`delete from audit_log where seq = 1`)).toMatch(/append-only/);
  });

  it("detects an edited entry", async () => {
    await asAttacker(sql`update audit_log set data = '{"i": 99}'::jsonb where seq = 3`);
    const report = await t.system.audit.verify();
    expect(report.ok).toBe(false);
    expect(report.problems.map((p) => p.kind)).toContain("edited");
  });

  it("detects a deleted entry in the middle", async () => {
    await asAttacker(sql`delete from audit_log where seq = 2`);
    const report = await t.system.audit.verify();
    expect(report.ok).toBe(false);
  });

  it("detects deletion of the newest entries", async () => {
    await asAttacker(sql`delete from audit_log where seq >= 5`);
    const report = await t.system.audit.verify();
    expect(report.ok).toBe(false);
    expect(report.problems.map((p) => p.kind)).toContain("truncated");
  });

  it("detects reordering", async () => {
    await asAttacker(sql`update audit_log set seq = -3 where seq = 3`);
    await asAttacker(sql`update audit_log set seq = 3 where seq = 4`);
    await asAttacker(sql`update audit_log set seq = 4 where seq = -3`);
    expect((await t.system.audit.verify()).ok).toBe(false);
  });

  it("detects a chain rewritten consistently without the key provider (forged head)", async () => {
    // The attacker truncates and moves the head back to a hash they can compute, but cannot MAC it.
    const [entry] = await queryRows<{ hash: string }>(db(), sql`select hash from audit_log where seq = 4`);
    await asAttacker(sql`delete from audit_log where seq > 4`);
    await db().execute(sql`update audit_heads set seq = 4, hash = ${entry!.hash}`);
    const report = await t.system.audit.verify();
    expect(report.ok).toBe(false);
    expect(report.problems.map((p) => p.kind)).toContain("head_forged");
  });
});
