import { sql } from "drizzle-orm";
import { Pool } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../services/pay/src/db/client.ts";
import { call, openTestPay, paymentBody, signedInPayer, type TestPay } from "../services/pay/src/testing/system.ts";
import { newId } from "@mpay/protocol";
import { devicesOf } from "../services/pay/src/devices/store.ts";
import { insertCard } from "../services/pay/src/vault/store.ts";
import { approveWithPin, checkPin, enroll, storeCard, type RequestLog } from "./auth-wallet.ts";

// The benchmark's wallet against the real routes (PGlite, a real socket): if the payer API changes, the benchmark
// should fail here rather than measure error answers.
describe("the auth benchmark's synthetic wallet [pglite]", () => {
  let t: TestPay;
  let pool: Pool;

  beforeAll(async () => {
    t = await openTestPay("pglite");
    pool = new Pool(await t.app.listen({ host: "127.0.0.1", port: 0 }), { connections: 1 });
  });
  afterAll(async () => {
    await pool.close();
    await t.close();
  });

  it("binds a device, sets the PIN, passes a pin-check login and approves a payment over HTTP", async () => {
    const session = await signedInPayer(t.system, "Bench Payer");
    const wallet = await enroll(pool, { payerId: session.payerId, sessionToken: session.token });
    // The card row as the bench's setup makes it, then sealed and uploaded by the synthetic wallet.
    const [device] = await devicesOf(t.system.database.db, session.payerId);
    const card = await insertCard(t.system.database.db, {
      id: newId("card"),
      payerId: session.payerId,
      deviceId: device!.id,
      issuerId: "sampo",
      cardRef: "cr_bench",
      brand: "visa",
      last4: "0016",
      expiryMonth: "2031-12",
      status: "awaiting_records",
    });
    await storeCard(pool, wallet, { payerId: session.payerId, cardId: card.id, deviceId: device!.id });
    expect(wallet.card?.cardId).toBe(card.id);
    const failures: string[] = [];
    const seen: string[] = [];
    const log: RequestLog = (kind, status, _ms, body) => {
      seen.push(kind);
      const ok = status === 200;
      if (!ok) failures.push(`${kind} ${status}: ${body}`);
      return ok;
    };

    expect(await checkPin(pool, wallet, log)).toBe(true);
    const payment = await call<{ id: string }>(t.app, "POST", "/v1/payments", t.merchant.secretKey, paymentBody());
    expect(await approveWithPin(pool, wallet, payment.body.id, log)).toBe(true);

    expect(failures).toEqual([]);
    expect(seen).toEqual(["login-start", "login-finish", "challenge", "login-start", "approve"]);
    const rows = await queryRows<{ n: number }>(
      t.system.database.db,
      sql`select count(*)::int as n from payment_approvals where payment_id = ${payment.body.id}`,
    );
    expect(Number(rows[0]?.n)).toBe(1);
    const pin = await call<{ triesLeft: number; locked: boolean }>(t.app, "GET", "/v1/payer/pin", session.token);
    expect(pin.body).toMatchObject({ triesLeft: 5, locked: false });
  });
});
