import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { witnessedHeadsSchema } from "@mpay/protocol";
import { loadConfig } from "../config.ts";
import { queryRows } from "../db/client.ts";
import { testBackends } from "../testing/databases.ts";
import { openTestNetwork, type TestNetwork } from "@mpay/testing/network";
import { readWitnessedHeads, WitnessError } from "./witness.ts";
import { WitnessPublisher } from "./witness-publisher.ts";
import { inWitnessTurn } from "./store.ts";

describe("the audit witness's configuration", () => {
  it("defaults to the embedded simulator's first issuer, follows its variables, and can be turned off", () => {
    expect(loadConfig({}).auditWitness.url).toBe("http://127.0.0.1:4100/issuers/sampo/audit-heads");
    expect(
      loadConfig({ MPAY_ISSUER_URL: "http://issuers.internal:8100/", ISSUER_IDS: "kstar,handae" }).auditWitness.url,
    ).toBe("http://issuers.internal:8100/issuers/kstar/audit-heads");
    expect(
      loadConfig({ MPAY_AUDIT_WITNESS_URL: "https://witness.example/issuers/sampo/audit-heads/" }).auditWitness.url,
    ).toBe("https://witness.example/issuers/sampo/audit-heads");
    expect(loadConfig({ MPAY_AUDIT_WITNESS_URL: "off" }).auditWitness.url).toBeNull();
    expect(() => loadConfig({ MPAY_AUDIT_WITNESS_URL: "ftp://x" })).toThrow(/MPAY_AUDIT_WITNESS_URL/);
  });
});

/** The pay server's maintenance task and a real issuer host as the witness, over real HTTP. */
describe.each(testBackends())("sending audit heads to the witness [%s]", (backend) => {
  let net: TestNetwork;
  const witnessed = async () => readWitnessedHeads(net.pay.system.witness!.witness.url);

  beforeAll(async () => {
    net = await openTestNetwork(backend);
  });
  afterAll(() => net?.close());

  it("sends the newest head once, then only newer ones; the witness keeps them and the log verifies against them", async () => {
    const publisher = net.pay.system.witness!;
    expect(publisher.witness.url).toBe(`${net.issuerUrl}/issuers/sampo/audit-heads`);
    expect(await publisher.publishOnce()).toBe(1);
    expect(await publisher.publishOnce()).toBe(0);
    await net.pay.system.audit.record({ actor: "operator:test", action: "admin.action", target: "a" });
    await net.pay.system.audit.record({ actor: "operator:test", action: "admin.action", target: "b" });
    expect(await publisher.publishOnce()).toBe(1);

    const held = await witnessed();
    expect(witnessedHeadsSchema.parse(held).key).toMatchObject({ kid: (await net.pay.system.audit.publicKey()).kid });
    const latest = await net.pay.system.audit.latestHead();
    expect(held.heads.map((h) => h.head)).toHaveLength(2);
    expect(held.heads.at(-1)!.head).toBe(latest!.jws);
    expect(await net.pay.system.audit.verify(held.heads.map((h) => h.head))).toMatchObject({
      ok: true,
      witnessedHeads: 2,
    });
  });

  // Two pay-server processes on PostgreSQL: one reads the head, is slow to send it; meanwhile the log grows and the
  // other would send the newer head first, so the slow one's older head would be refused as a shrunk log.
  if (backend === "postgres")
    it("two processes never send heads out of order: one at a time takes its turn (advisory lock)", async () => {
      const { audit, keys, database } = net.pay.system;
      const client = net.pay.system.witness!.witness;
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let sending!: () => void;
      const atGate = new Promise<void>((resolve) => (sending = resolve));
      const slowClient = {
        url: client.url,
        async submit(...args: Parameters<typeof client.submit>) {
          sending();
          await gate;
          return client.submit(...args);
        },
      };
      const turn = <T>(work: () => Promise<T>) => inWitnessTurn(database.db, work);
      const slow = new WitnessPublisher(audit, keys, slowClient, turn);
      const other = new WitnessPublisher(audit, keys, client, turn);
      await audit.record({ actor: "operator:test", action: "admin.action", target: "c" });
      const first = slow.publishOnce();
      await atGate;
      await audit.record({ actor: "operator:test", action: "admin.action", target: "d" });
      expect(await other.publishOnce()).toBe(0); // the slow one has the turn: nothing sent out of order
      release();
      expect(await first).toBe(1);
      expect(await other.publishOnce()).toBe(1); // the newer head, after the older one
      const held = await witnessed();
      expect(held.heads.at(-1)!.head).toBe((await audit.latestHead())!.jws);
    });

  it("reports a truncated log as the witness's refusal, and the witness's heads catch it", async () => {
    const db = net.pay.system.database.db;
    await db.execute(sql`alter table audit_log disable trigger audit_log_append_only`);
    await db.execute(sql`alter table audit_signed_heads disable trigger audit_signed_heads_append_only`);
    const [{ max } = { max: 0 }] = await queryRows<{ max: number }>(
      db,
      sql`select max(seq)::int as max from audit_log`,
    );
    await db.execute(sql`delete from audit_log where seq = ${max}`);
    await db.execute(sql`delete from audit_signed_heads where size = ${max}`);
    await db.execute(sql`alter table audit_log enable trigger audit_log_append_only`);
    await db.execute(sql`alter table audit_signed_heads enable trigger audit_signed_heads_append_only`);

    const refused = await net.pay.system.witness!.publishOnce().then(
      () => null,
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(WitnessError);
    expect(refused).toMatchObject({ code: "witness_refused", witnessCode: "audit_head_shrunk" });
    expect((refused as Error).message).not.toContain(net.acquirerSecret);
    expect((await net.pay.system.audit.verify()).ok).toBe(true); // the truncated log is consistent in itself
    const report = await net.pay.system.audit.verify((await witnessed()).heads.map((h) => h.head));
    expect(report.problems.map((p) => p.kind)).toEqual(["witnessed_head_missing"]);
  });
});
