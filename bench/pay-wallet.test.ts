import { sql } from "drizzle-orm";
import { Pool } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../services/pay/src/db/client.ts";
import { openTestNetwork, type TestNetwork } from "@mpay/testing/network";
import { call, paymentBody, signedInPayer } from "../services/pay/src/testing/system.ts";
import { registerPasskey } from "./pay-passkey.ts";
import { enroll, type DeviceStep, type RequestKind, type RequestLog } from "./auth-wallet.ts";
import { approvingTestCards, enrollCard, issuerListings, latestInboxCode, payWith } from "./pay-wallet.ts";

// The `pay` benchmark's wallet against the real routes of a pay server and an issuer host (PGlite, real sockets):
// if the payer API or the issuer's checks change, the benchmark should fail here rather than measure error answers
// or declines.
describe("the pay benchmark's synthetic wallet [pglite]", () => {
  let network: TestNetwork;
  let pool: Pool;

  beforeAll(async () => {
    network = await openTestNetwork("pglite", { issuers: ["kstar"] });
    pool = new Pool(await network.pay.app.listen({ host: "127.0.0.1", port: 0 }), { connections: 1 });
  });
  afterAll(async () => {
    await pool?.close();
    await network?.close();
  });

  it("enrolls a card at the issuer and pays with the PIN: challenge, release, the issuer's JWE, authorized", async () => {
    const [card] = approvingTestCards(["kstar"]);
    const session = await signedInPayer(network.pay.system, "Bench Payer");
    const wallet = await enroll(pool, { payerId: session.payerId, sessionToken: session.token });
    const listings = await issuerListings(pool, wallet);
    await enrollCard(pool, wallet, card!, listings, (phone) => latestInboxCode(network.issuerUrl, phone));
    expect(wallet.card?.kDev).toHaveLength(32);

    const requests: RequestKind[] = [];
    const failures: string[] = [];
    const log: RequestLog = (kind, status, _ms, body) => {
      requests.push(kind);
      if (status !== 200) failures.push(`${kind} ${status}: ${body}`);
      return status === 200;
    };
    const steps = new Set<DeviceStep>();
    const payment = await call<{ id: string }>(
      network.pay.app,
      "POST",
      "/v1/payments",
      network.pay.merchant.secretKey,
      paymentBody({ amount: 1500 }),
    );
    const outcome = await payWith("pin", pool, wallet, payment.body.id, listings, log, (step) => steps.add(step));

    expect(failures).toEqual([]);
    expect(outcome).toMatchObject({ id: payment.body.id, status: "authorized", declineCode: null });
    expect(requests).toEqual(["challenge", "login-start", "approve", "authorize"]);
    expect([...steps].sort()).toEqual(["device-jwe", "device-opaque-finish", "device-prepare"]);
    const rows = await queryRows<{ status: string }>(
      network.pay.system.database.db,
      sql`select status from payments where id = ${payment.body.id}`,
    );
    expect(rows[0]?.status).toBe("authorized");
    const issuer = network.issuer.host.get("kstar");
    const decided = await issuer.authorizations.inquire(payment.body.id);
    expect(decided).toMatchObject({ decision: { decision: "approved" } });
    // The wallet kept its share and nothing else: K_dev is intact for the next payment.
    expect(wallet.card?.kDev.some((b) => b !== 0)).toBe(true);
  });

  it("registers a passkey, binds it at the issuer with the card and pays with it: approve without a PIN login, authorized", async () => {
    const [, card] = approvingTestCards(["kstar"]);
    const session = await signedInPayer(network.pay.system, "Bench Passkey Payer");
    const wallet = await enroll(pool, { payerId: session.payerId, sessionToken: session.token });
    await registerPasskey(pool, wallet);
    const listings = await issuerListings(pool, wallet);
    await enrollCard(pool, wallet, card!, listings, (phone) => latestInboxCode(network.issuerUrl, phone));

    for (const amount of [1500, 2500]) {
      const requests: RequestKind[] = [];
      const failures: string[] = [];
      const log: RequestLog = (kind, status, _ms, body) => {
        requests.push(kind);
        if (status !== 200) failures.push(`${kind} ${status}: ${body}`);
        return status === 200;
      };
      const steps = new Set<DeviceStep>();
      const payment = await call<{ id: string }>(
        network.pay.app,
        "POST",
        "/v1/payments",
        network.pay.merchant.secretKey,
        paymentBody({ amount }),
      );
      const outcome = await payWith("passkey", pool, wallet, payment.body.id, listings, log, (step) => steps.add(step));
      expect(failures).toEqual([]);
      expect(outcome).toMatchObject({ id: payment.body.id, status: "authorized", declineCode: null });
      expect(requests).toEqual(["challenge", "approve", "authorize"]);
      expect([...steps].sort()).toEqual(["device-jwe", "device-passkey", "device-prepare"]);
      const rows = await queryRows<{ method: string }>(
        network.pay.system.database.db,
        sql`select method from payment_approvals where payment_id = ${payment.body.id}`,
      );
      expect(rows[0]?.method).toBe("passkey");
      const decided = await network.issuer.host.get("kstar").authorizations.inquire(payment.body.id);
      expect(decided).toMatchObject({ decision: { decision: "approved" } });
    }
    // The stored counter moved with each assertion (a replay would be refused).
    const counters = await queryRows<{ sign_count: number }>(
      network.pay.system.database.db,
      sql`select sign_count from passkeys where payer_id = ${session.payerId}`,
    );
    expect(Number(counters[0]?.sign_count)).toBe(2);
  });
});
