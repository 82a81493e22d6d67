/**
 * A custodian leaves (issue 7, "`shamir` re-split: new shares, old shares refused, no downtime"): the operators
 * run the rekey while payers keep enrolling cards and paying with their PIN through the wallet SDK, against a real
 * issuer host. Every approval opens the card's K_srv and the OPAQUE server setup, and a PIN login seals its state,
 * so they all cross the key provider while the rows move from the old key versions to the new one.
 *
 * PostgreSQL: the operator's rekey runs in a process of its own (a second pay system on the database, as the CLI
 * is), and the serving pay server follows it by the delivered master key. PGlite has one process per folder, so
 * the serving process runs the rekey itself.
 */
import { sql } from "drizzle-orm";
import pino from "pino";
import { combine } from "shamir-secret-sharing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Card } from "@mpay/wallet";
import { queryRows } from "../services/pay/src/db/client.ts";
import { rekeyAndReseal, type NewShareSet } from "../services/pay/src/keys/shamir/rekey.ts";
import { RESEALERS } from "../services/pay/src/sealed-columns.ts";
import type { ShamirKeyProvider } from "../services/pay/src/keys/shamir/shamir-provider.ts";
import { openKeyring } from "../services/pay/src/keys/shamir/shamir-store.ts";
import { openPaySystem, type PaySystem } from "../services/pay/src/system.ts";
import { systemBackends } from "../services/pay/src/testing/databases.ts";
import { CARDS, openBreachNetwork, PIN, type BreachNetwork, type BreachPayer } from "./support/breach-network.ts";

const shareBytes = (share: string) =>
  new Uint8Array(Buffer.from(share.slice("mpvs2_".length), "base64url").subarray(8, 41));

interface Attempt {
  what: string;
  startedAt: number;
  endedAt: number;
  outcome: string;
}

describe.each(systemBackends())("a custodian leaves: the shamir vault is re-keyed while payers pay [%s]", (backend) => {
  let net: BreachNetwork;
  let oldShares: string[] = [];
  let operator: PaySystem;
  let ownOperator = false;
  const payers: Array<{ payer: BreachPayer; card: Card }> = [];

  beforeAll(async () => {
    net = await openBreachNetwork(backend, {
      pay: { keyProvider: "shamir" },
      initKeys: async (system) => {
        oldShares = (await (system.keys as ShamirKeyProvider).initialize(3, 2)).peek();
      },
    });
    for (const [name, data] of [
      ["Kim Minji", CARDS.sampo],
      ["Lee Minho", CARDS.kstar],
    ] as const) {
      const payer = await net.newPayer(name);
      payers.push({ payer, card: await net.enroll(payer, data) });
    }
    if (backend === "postgres") {
      operator = await openPaySystem(net.pay.config, pino({ level: "silent" }));
      ownOperator = true;
      for (const share of oldShares.slice(1)) await operator.keys.unsealer!.submitShare(share);
    } else {
      operator = net.pay.system;
    }
  });
  afterAll(async () => {
    if (ownOperator) await operator.close();
    await net?.close();
  });

  it("approvals, captures and an enrollment go on through the rekey; afterwards every card opens under the new version only", async () => {
    const attempts: Attempt[] = [];
    const attempt = async (what: string, run: () => Promise<string>) => {
      const startedAt = Date.now();
      const outcome = await run().catch(
        (error: unknown) => `failed: ${error instanceof Error ? error.message : String(error)}`,
      );
      attempts.push({ what, startedAt, endedAt: Date.now(), outcome });
    };
    let running = true;
    const pay = async (i: number) => {
      const { payer, card } = payers[i % payers.length]!;
      const paymentId = await net.newPayment(1000 + i);
      const { payment } = await payer.wallet.approvePayment(paymentId, {
        cardId: card.id,
        pin: PIN,
        confirm: async () => true,
      });
      if (payment.status !== "authorized") return `payment ${payment.status}`;
      const captured = await fetch(`${net.payUrl}/v1/payments/${paymentId}/capture`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${net.pay.merchant.secretKey}`,
          "content-type": "application/json",
          "idempotency-key": `capture-${paymentId}`,
        },
        body: "{}",
      });
      return captured.ok ? "captured" : `capture ${captured.status}`;
    };
    const paying = (async () => {
      for (let i = 0; running; i++) await attempt("payment", () => pay(i));
    })();
    const enrolling = attempt("enrollment", async () => {
      const payer = await net.newPayer("Park Jiwoo");
      const card = await net.enroll(payer, CARDS.sampoMaster);
      payers.push({ payer, card });
      return "enrolled";
    });

    let rekeyedAt = 0;
    const printed: NewShareSet[] = [];
    // Let a payment or two pass first, so the rekey starts in the middle of the traffic.
    await expect.poll(() => attempts.length, { timeout: 60_000, interval: 100 }).toBeGreaterThanOrEqual(1);
    const rekeyStarted = Date.now();
    const report = await rekeyAndReseal(
      { db: operator.database.db, keys: operator.keys as ShamirKeyProvider },
      RESEALERS,
      { shares: 5, threshold: 3 },
      {
        settleMs: 1500,
        batchSize: 1,
        onShares: (set) => {
          rekeyedAt = Date.now();
          printed.push(set);
        },
      },
    );
    const rekeyEnded = Date.now();
    // One more payment after the end, then stop.
    await expect
      .poll(() => attempts.filter((a) => a.startedAt > rekeyEnded).length, { timeout: 60_000, interval: 100 })
      .toBeGreaterThanOrEqual(1);
    running = false;
    await Promise.all([paying, enrolling]);

    expect(attempts.filter((a) => !["captured", "enrolled"].includes(a.outcome))).toEqual([]);
    // Traffic crossed the rekey: some attempt was running while the new share set was committed, or after it
    // while rows were being re-sealed.
    expect(attempts.some((a) => a.startedAt < rekeyEnded && a.endedAt > rekeyStarted)).toBe(true);
    expect(attempts.some((a) => a.what === "payment" && a.endedAt > rekeyedAt && a.startedAt < rekeyEnded)).toBe(true);
    expect(report).toMatchObject({ fromVersion: 1, toVersion: 2, retired: true, leftTotal: 0 });
    expect(report.resealed["cards.wrapped_k_srv"]).toBeGreaterThanOrEqual(2);
    expect(printed[0]).toMatchObject({
      generation: 2,
      threshold: 3,
      shareCount: 5,
      delivered: backend === "postgres" ? 1 : 0,
    });

    const db = net.pay.system.database.db;
    expect(
      await queryRows<{ v: number }>(
        db,
        sql`select distinct kek_version as v from cards where wrapped_k_srv is not null`,
      ),
    ).toEqual([{ v: 2 }]);
    expect(await queryRows(db, sql`select generation, version from vault_keyring`)).toEqual([
      { generation: 2, version: 2 },
    ]);
    expect(net.pay.system.keys.currentKeyVersion()).toBe(2);
    // The old master key, rebuilt from the departed custodians' shares, opens nothing the database now holds.
    const oldMaster = Buffer.from(await combine(oldShares.slice(0, 2).map(shareBytes)));
    expect(await openKeyring(db, oldMaster, 1)).toEqual(new Map());
    await expect(openKeyring(db, oldMaster, 2)).rejects.toThrow(/does not open/);
    expect(await net.pay.system.audit.verify()).toMatchObject({ ok: true });
  });
});
