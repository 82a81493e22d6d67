/**
 * Issuers on their own hosts (issue 12): two real issuer hosts over HTTP, `sampo` at the default host and `handae`
 * at one of its own (its URL, its acquirer secret), behind one pay server. With `handae` stopped, its breaker opens:
 * its payments answer 503 issuer_unavailable at once, without a request and without an operation left in doubt,
 * while `sampo`'s still go through and the listing still has `sampo`. When `handae` is back, the next call after the
 * cool-down (the test clock moves) is the probe, and its answer closes the breaker.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestClock } from "@mpay/service-kit";
import { isPayApiError, PayClient, Wallet } from "@mpay/wallet";
import { FileKeyStore } from "@mpay/wallet/node";
import { openTestNetwork, type TestNetwork } from "@mpay/testing/network";
import { TEST_NETWORK_ROOTS } from "@mpay/testing/network-roots";
import { openTestHost, type TestHost } from "@mpay/testing/issuer-host";
import { queryRows } from "../db/client.ts";
import { testBackends } from "../testing/databases.ts";
import { call, paymentBody } from "../testing/system.ts";
import { DEFAULT_BREAKER_SETTINGS } from "./breaker.ts";
import { IssuerRegistry } from "./registry.ts";
import { SimulatorConnector } from "./simulator/connector.ts";

const PIN = "517342";
const SAMPO_CARD = { pan: "4111000000000016", expiry: "12/31", cvc: "806", phone: "+821055510001" };
const HANDAE_CARD = { pan: "4333000000000018", expiry: "12/31", cvc: "604", phone: "+821055530001" };

describe.each(testBackends())("issuers on their own hosts [%s]", (backend) => {
  const COOLDOWN_SECONDS = DEFAULT_BREAKER_SETTINGS.cooldownMs / 1000 + 1;
  const clock = new TestClock();
  let net: TestNetwork;
  let handae: TestHost;
  let registry: IssuerRegistry;
  let folder: string;
  let wallet: Wallet;
  const cards: Record<string, string> = {};

  beforeAll(async () => {
    handae = await openTestHost(backend, { issuers: ["handae"], persistent: true });
    net = await openTestNetwork(backend, {
      issuers: ["sampo"],
      pay: { clock },
      connector: (real) =>
        (registry = new IssuerRegistry(
          new Map([
            [
              "handae",
              new SimulatorConnector({ baseUrl: handae.url, acquirerSecret: handae.acquirerSecret, timeoutMs: 2_000 }),
            ],
          ]),
          real,
        )),
    });
    const baseUrl = await net.pay.app.listen({ host: "127.0.0.1", port: 0 });
    folder = await mkdtemp(join(tmpdir(), "mpay-hosts-"));
    const session = await net.pay.system.payers.openSession({
      subject: "acct_hosts",
      displayName: "Kim Minji",
      phoneNumber: null,
    });
    wallet = new Wallet({
      trustedRoots: TEST_NETWORK_ROOTS,
      keyStore: new FileKeyStore(join(folder, "phone.json"), FileKeyStore.newDeviceSecret()),
      client: new PayClient({ baseUrl, sessionToken: session.sessionToken.peek() }),
      keyStretching: "memory-constrained",
    });
    await wallet.bindThisDevice("Phone");
    await wallet.setPin(PIN);
    cards["sampo"] = (
      await (await wallet.startCardEnrollment(SAMPO_CARD)).complete(await net.latestCode(SAMPO_CARD.phone))
    ).id;
    const handaeCode = async () =>
      (
        await handae.get<{ messages: Array<{ code: string }> }>(
          `/test-inbox?phone=${encodeURIComponent(HANDAE_CARD.phone)}`,
        )
      ).body.messages[0]!.code;
    cards["handae"] = (await (await wallet.startCardEnrollment(HANDAE_CARD)).complete(await handaeCode())).id;
  });
  afterAll(async () => {
    await net?.close();
    await handae?.close();
    await rm(folder, { recursive: true, force: true });
  });

  const merchant = <T = Record<string, unknown>>(method: "GET" | "POST", path: string, body?: unknown) =>
    call<T & { error?: { code: string } }>(net.pay.app, method, path, net.pay.merchant.secretKey, body);
  const pay = async (issuer: "sampo" | "handae", amount: number) => {
    const created = await merchant<{ id: string }>("POST", "/v1/payments", paymentBody({ amount }));
    const started = Date.now();
    const outcome = await wallet
      .approvePayment(created.body.id, { cardId: cards[issuer]!, pin: PIN, confirm: async () => true })
      .then(
        (o) => ({ status: o.payment.status, code: undefined as string | undefined }),
        (error: unknown) => {
          if (!isPayApiError(error)) throw error;
          return { status: undefined as string | undefined, code: error.code };
        },
      );
    return { id: created.body.id, ...outcome, ms: Date.now() - started };
  };
  const operationsOf = async (paymentId: string) =>
    queryRows<{ status: string }>(
      net.pay.system.database.db,
      sql`select status from issuer_operations where payment_id = ${paymentId}`,
    );
  const states = () => Object.fromEntries(net.pay.system.issuers.breakerStates().map((b) => [b.issuerId, b.state]));

  it("one issuer's host down: its payments fail fast with 503 and leave nothing in doubt; the other's go through", async () => {
    expect((await net.pay.system.issuers.list()).map((i) => i.issuerId).sort()).toEqual(["handae", "sampo"]);
    const held = await pay("handae", 10_000);
    expect(held).toMatchObject({ status: "authorized" });

    await handae.server.stop();
    // The listing merges what answers: sampo is still listed while handae's host is down.
    expect((await registry.listIssuers()).map((i) => i.issuerId)).toEqual(["sampo"]);
    // Calls that get no answer open handae's breaker (each inquiry is one).
    for (let i = 0; i < DEFAULT_BREAKER_SETTINGS.failures; i++)
      await expect(net.pay.system.issuers.inquire("handae", `pay_probe${i}`)).rejects.toMatchObject({
        kind: "unavailable",
      });
    expect(states()).toMatchObject({ handae: "open" });

    const refused = await pay("handae", 11_000);
    expect(refused.code).toBe("issuer_unavailable");
    expect(refused.ms).toBeLessThan(1_500);
    // Never sent: no operation waits for the reconciler, and the payment still awaits an approval.
    expect(await operationsOf(refused.id)).toEqual([]);
    expect((await merchant<{ status: string }>("GET", `/v1/payments/${refused.id}`)).body.status).toBe(
      "requires_approval",
    );
    await expect(net.pay.system.issuers.inquire("handae", refused.id)).rejects.toMatchObject({ kind: "not_sent" });
    // A capture not sent is rolled back with the merchant's request: 503, the payment as it was, nothing in doubt.
    const capture = await merchant("POST", `/v1/payments/${held.id}/capture`);
    expect([capture.status, capture.body.error?.code]).toEqual([503, "issuer_unavailable"]);
    expect((await operationsOf(held.id)).map((op) => op.status)).toEqual(["done"]);
    expect((await merchant<{ status: string }>("GET", `/v1/payments/${held.id}`)).body.status).toBe("authorized");

    // The other issuer is not held up.
    const other = await pay("sampo", 12_000);
    expect(other.status).toBe("authorized");
    expect(states()).toMatchObject({ handae: "open", sampo: "closed" });

    // handae comes back; its breaker stays open until the cool-down ends, then the probe's answer closes it.
    await handae.restart();
    expect((await pay("handae", 13_000)).code).toBe("issuer_unavailable");
    clock.advance(COOLDOWN_SECONDS);
    expect(states()).toMatchObject({ handae: "half_open" });
    // The probe: one real call, answered (handae has no such payment), closes the breaker.
    expect(await net.pay.system.issuers.inquire("handae", "pay_probe")).toBeNull();
    expect(states()).toMatchObject({ handae: "closed" });
    // Back to the wallet's time (it and the issuers check signatures against their own clocks); closed needs none.
    clock.advance(-COOLDOWN_SECONDS);
    expect(await pay("handae", 14_000)).toMatchObject({ status: "authorized" });
    // The payment refused while the breaker was open still has nothing in doubt (the reconciler has nothing to do),
    // and its one approval was not spent on a request that could not go out: the payer approves it now.
    expect(await operationsOf(refused.id)).toEqual([]);
    const approvedLater = await wallet.approvePayment(refused.id, {
      cardId: cards["handae"]!,
      pin: PIN,
      confirm: async () => true,
    });
    expect(approvedLater.payment.status).toBe("authorized");
    // No secret reaches the pay server's log.
    const log = net.pay.logLines.join("\n");
    expect(log).toContain("issuer circuit breaker");
    expect(log).not.toContain(handae.acquirerSecret);
    expect(log).not.toContain(net.acquirerSecret);
  });
});
