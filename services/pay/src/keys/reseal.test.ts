import { randomBytes } from "node:crypto";
import { setImmediate } from "node:timers";
import { sql } from "drizzle-orm";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../app.ts";
import { queryRows } from "../db/client.ts";
import { pinLoginAad } from "../pin/service.ts";
import { openPaySystem, type PaySystem } from "../system.ts";
import { testBackends } from "../testing/databases.ts";
import { call, openTestPay, signedInPayer, type TestPay } from "../testing/system.ts";
import { pinLogins } from "../pin/schema.ts";
import { providerSecret, providerSecretAad } from "./provider-secrets.ts";
import { KeyProviderError } from "./provider.ts";
import { resealBelow, rotateAndReseal } from "./reseal.ts";
import { RESEALERS } from "../sealed-columns.ts";
import { webhookSecretAad } from "../merchants/service.ts";
import { webhookEndpointSecretAad } from "../webhooks/endpoint-secrets.ts";
import { v1aKeyAad } from "../webhooks/service.ts";

const SETTLE_MS = 1500;

/** Every sealed blob of every registered column, with what it takes to open it. */
async function sealedRows(system: PaySystem) {
  const db = system.database.db;
  const rows: { where: string; sealed: string; purpose: Parameters<PaySystem["keys"]["open"]>[0]; aad: string }[] = [];
  for (const r of await queryRows<{ name: string; sealed: string }>(
    db,
    sql`select name, sealed from provider_secrets`,
  )) {
    rows.push({
      where: `provider_secrets ${r.name}`,
      sealed: r.sealed,
      purpose: "provider-secret",
      aad: providerSecretAad(r.name),
    });
  }
  for (const r of await queryRows<{ merchant_id: string; mode: "test" | "live"; sealed_secret: string }>(
    db,
    sql`select merchant_id, mode, sealed_secret from webhook_secrets`,
  )) {
    rows.push({
      where: `webhook_secrets ${r.merchant_id}`,
      sealed: r.sealed_secret,
      purpose: "webhook-secret",
      aad: webhookSecretAad(r.merchant_id, r.mode),
    });
  }
  for (const r of await queryRows<{ id: string; v: string }>(
    db,
    sql`select id, v1a_sealed_private_key as v from webhook_endpoints where v1a_sealed_private_key is not null`,
  )) {
    rows.push({
      where: `webhook_endpoints ${r.id}`,
      sealed: r.v,
      purpose: "webhook-signing-key",
      aad: v1aKeyAad(r.id),
    });
  }
  for (const r of await queryRows<{ id: string; s: string | null; p: string | null }>(
    db,
    sql`select id, sealed_secret as s, previous_sealed_secret as p from webhook_endpoints`,
  )) {
    for (const sealed of [r.s, r.p])
      if (sealed)
        rows.push({
          where: `webhook_endpoints ${r.id} secret`,
          sealed,
          purpose: "webhook-secret",
          aad: webhookEndpointSecretAad(r.id),
        });
  }
  for (const r of await queryRows<{ payer_id: string; login_id: string; sealed_state: string }>(
    db,
    sql`select payer_id, login_id, sealed_state from pin_logins`,
  )) {
    rows.push({
      where: `pin_logins ${r.login_id}`,
      sealed: r.sealed_state,
      purpose: "pin-login-state",
      aad: pinLoginAad(r.payer_id, r.login_id),
    });
  }
  return rows;
}

describe.each(testBackends())("rotation and online re-seal [%s]", (backend) => {
  let pay: TestPay;
  /** On PostgreSQL, a second pay-server process on the same database and key file; on PGlite, the same one. */
  let other: { system: PaySystem; app: FastifyInstance };
  let ownOther = false;

  beforeAll(async () => {
    pay = await openTestPay(backend);
    if (backend === "postgres") {
      const system = await openPaySystem(pay.config, pay.system.log);
      other = { system, app: await buildApp(system) };
      ownOther = true;
    } else {
      other = { system: pay.system, app: pay.app };
    }
  });
  afterAll(async () => {
    if (ownOther) {
      await other.app.close();
      await other.system.close();
    }
    await pay.close();
  });

  const newEndpoint = (app: FastifyInstance) =>
    call(
      app,
      "POST",
      "/v1/webhook-endpoints",
      pay.merchant.secretKey,
      { url: "http://127.0.0.1:9/hook", signatures: ["v1", "v1a"] },
      { "idempotency-key": randomBytes(8).toString("hex") },
    );

  it("re-seals every sealed column onto the new version while seals, opens and API writes go on", async () => {
    const { system } = pay;
    // Something in every registered column, all on version 1.
    await providerSecret(system.database.db, system.keys, "opaque-server-setup", () => "setup-value");
    for (let i = 0; i < 3; i++) expect((await newEndpoint(pay.app)).status).toBe(200);
    await pay.createMerchant("Second Shop");
    const { payerId } = await signedInPayer(system);
    const loginId = "pl_test";
    await system.database.db.insert(pinLogins).values({
      payerId,
      loginId,
      sealedState: await system.keys.seal(
        "pin-login-state",
        Buffer.from("opaque state"),
        pinLoginAad(payerId, loginId),
      ),
      purpose: "pin-check",
      expiresAt: new Date(Date.now() + 60_000),
    });
    const before = await sealedRows(system);
    expect(before.length).toBeGreaterThanOrEqual(7);
    expect(before.every((r) => r.sealed.startsWith("mk1.1."))).toBe(true);

    // Load from both processes until the rotation is over.
    let running = true;
    const errors: unknown[] = [];
    const counts = { endpoints: 0, merchants: 0, seals: 0 };
    const loop = async (step: () => Promise<void>) => {
      while (running) {
        await step().catch((e: unknown) => void errors.push(e));
        // An in-memory seal and open never leave the microtask queue: yield, so timers and I/O get their turn.
        await new Promise((resolve) => setImmediate(resolve));
      }
    };
    const loops = [
      loop(async () => {
        const answer = await newEndpoint(other.app);
        if (answer.status !== 200) throw new Error(`endpoint: ${answer.status} ${answer.raw}`);
        counts.endpoints++;
      }),
      loop(async () => {
        await other.system.merchants.create({ name: `Shop ${counts.merchants}` });
        counts.merchants++;
      }),
      loop(async () => {
        const plain = randomBytes(24);
        const sealed = await other.system.keys.seal("provider-secret", plain, "load");
        if (!Buffer.from(await other.system.keys.open("provider-secret", sealed, "load")).equals(plain))
          throw new Error("round trip failed");
        counts.seals++;
      }),
    ];

    const report = await rotateAndReseal({ db: system.database.db, keys: system.keys }, RESEALERS, {
      settleMs: SETTLE_MS,
      batchSize: 2,
    });
    running = false;
    await Promise.all(loops);

    expect(errors).toEqual([]);
    expect(counts.endpoints).toBeGreaterThan(0);
    expect(counts.merchants).toBeGreaterThan(0);
    expect(counts.seals).toBeGreaterThan(0);
    expect(report).toMatchObject({ fromVersion: 1, toVersion: 2, leftTotal: 0 });
    expect(report.total).toBeGreaterThanOrEqual(before.length);
    expect(report.resealed["pin_logins.sealed_state"]).toBe(1);
    expect(report.resealed["provider_secrets.sealed"]).toBe(1);
    expect(other.system.keys.currentKeyVersion()).toBe(2);

    // After the load too: every blob is on version 2 and opens.
    for (const resealer of RESEALERS) expect(await resealer.countBelow(system.database.db, 2)).toBe(0);
    const after = await sealedRows(system);
    expect(after.length).toBeGreaterThan(before.length);
    for (const row of after) {
      expect(row.sealed.startsWith("mk1.2."), row.where).toBe(true);
      await system.keys.open(row.purpose, row.sealed, row.aad);
    }
    expect((await system.merchants.webhookSecret(pay.merchant.id, "test")).peek()).toBe(pay.merchant.webhookSecret);
    expect(await system.audit.verify()).toMatchObject({ ok: true });
  });

  it("stops at a row that does not open, naming it but not its content", async () => {
    const { system } = pay;
    expect(await system.keys.rotate()).toBe(3);
    const [row] = await queryRows<{ merchant_id: string; sealed_secret: string }>(
      system.database.db,
      sql`select merchant_id, sealed_secret from webhook_secrets limit 1`,
    );
    const moved = (
      await queryRows<{ merchant_id: string }>(
        system.database.db,
        sql`select merchant_id from webhook_secrets where merchant_id <> ${row!.merchant_id} limit 1`,
      )
    )[0]!;
    // Another merchant's blob copied into this row: well-formed, but bound to the other row's AAD.
    await system.database.db.execute(
      sql`update webhook_secrets set sealed_secret = (select sealed_secret from webhook_secrets where merchant_id = ${moved.merchant_id}) where merchant_id = ${row!.merchant_id}`,
    );
    const error = await resealBelow({ db: system.database.db, keys: system.keys }, RESEALERS, 3, { settleMs: 10 }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(KeyProviderError);
    expect((error as KeyProviderError).code).toBe("seal_invalid");
    expect((error as KeyProviderError).message).toContain(
      `webhook_secrets (merchant_id=${row!.merchant_id}, mode=test)`,
    );
    expect((error as KeyProviderError).message).not.toContain("mk1.");
  });
});
