/**
 * Breach drill (h) of issue 7: a KEK breach yields no more card-on-file charges than the payer signed for.
 *
 * A payer gives a merchant a mandate with a payment: at most 10,000 KRW a charge, 3 charges and 25,000 KRW a
 * month, ending in 90 days; the device signs that schedule for the issuer. Then an attacker takes the pay server's
 * KEK (its dev key file), its acquirer credential (its configuration) and its database, opens the sealed issuer
 * token (support/kek-thief.ts) and charges the card — straight at the issuer, in concurrent bursts, and through
 * the pay server's merchant API. The issuer host runs as a process of its own with a file clock
 * (ISSUER_TEST_CLOCK_FILE), which the drill moves into the next month, the month after and past the end date.
 *
 * Every charge beyond the schedule — over the cap per charge, over a month's count or total, after the end date —
 * is declined by the issuer, and the charges within it are the only ones on the cardholder's books. Were the
 * issuer to check the cap alone (the hole), the bursts would all pass and this drill would fail.
 */
import { randomBytes } from "node:crypto";
import { copyFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backofficeCardSchema, periodStart, type AuthorizationAnswer } from "@mpay/protocol";
import { setClockOffset } from "@mpay/service-kit";
import { PayClient, Wallet } from "@mpay/wallet";
import { FileKeyStore } from "@mpay/wallet/node";
import { TEST_NETWORK_ROOTS } from "@mpay/testing/network-roots";
import { DEV_KEY_FILE_NAME } from "../services/pay/src/keys/index.ts";
import { SimulatorConnector } from "../services/pay/src/issuers/simulator/connector.ts";
import { acquirerSecretOf } from "../services/pay/src/issuers/settings.ts";
import { freshDatabase, systemBackends, type FreshDatabase } from "../services/pay/src/testing/databases.ts";
import { call, openTestPay, paymentBody, type TestPay } from "../services/pay/src/testing/system.ts";
import { freePorts } from "./support/messenger-process.ts";
import { startIssuerProcess, type IssuerProcess } from "./support/issuer-process.ts";
import { chargeAtIssuer, stealRecurringToken, type StolenMandate } from "./support/kek-thief.ts";
import { fixtureIssuerEnv, testRootSigner } from "../services/issuer/src/testing/fixtures.ts";
import { certifyStatementKey } from "../services/pay/src/testing/statement-key.ts";

const PIN = "602917";
const CARD = { pan: "4111000000000016", expiry: "12/31", cvc: "806", phone: "+821055510001" };
const DAY_MS = 86_400_000;
/** The schedule the payer signs: 10,000 a charge, 3 charges and 25,000 a month, for 90 days. */
const MAX_AMOUNT = 10_000;
const PERIOD = { interval: "month", maxCharges: 3, maxTotal: 25_000 } as const;

type Outcome = { paymentId: string; amount: number; via: "issuer" | "pay server"; result: string };

describe.each(systemBackends())(
  "breach drill (h): a stolen KEK and acquirer credential charge a card on file only within the signed schedule [%s]",
  (backend) => {
    let dir: string;
    let clockFile: string;
    let issuerDatabase: FreshDatabase;
    let pay: TestPay;
    let issuer: IssuerProcess;
    let payUrl: string;
    const acquirerSecret = randomBytes(32).toString("base64url");
    const operatorToken = randomBytes(32).toString("base64url");

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), "mpay-drill-h-"));
      clockFile = join(dir, "issuer-clock");
      setClockOffset(clockFile, 0);
      issuerDatabase = await freshDatabase(backend);
      const [issuerPort] = (await freePorts(1)) as [number];
      const issuerUrl = `http://127.0.0.1:${issuerPort}`;
      pay = await openTestPay(backend, {
        issuers: { url: issuerUrl, acquirerSecret, acquirerSecretFile: join(dir, "none.json"), timeoutMs: 10_000 },
      });
      payUrl = await pay.app.listen({ host: "127.0.0.1", port: 0 });
      await certifyStatementKey(pay.system, await testRootSigner());
      issuer = await startIssuerProcess({
        ISSUER_PORT: String(issuerPort),
        ISSUER_DATA_DIR: join(dir, "issuer"),
        ...(issuerDatabase.url ? { ISSUER_DATABASE_URL: issuerDatabase.url } : {}),
        ...fixtureIssuerEnv(["sampo"]),
        ISSUER_ACQUIRER_SECRET: acquirerSecret,
        ISSUER_OPERATOR_TOKEN: operatorToken,
        ISSUER_TEST_CLOCK_FILE: clockFile,
      });
    });
    afterAll(async () => {
      await issuer?.stop();
      await pay?.close();
      await issuerDatabase?.drop();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    /** Moves the issuer's clock (and only its clock) to `at`. */
    const issuerClockAt = (at: Date) => setClockOffset(clockFile, at.getTime() - Date.now());
    /** A minute into the month after the one that holds `at` (UTC): no month ends during a phase of the drill. */
    const nextMonth = (at: Date) =>
      new Date(periodStart("month", new Date(periodStart("month", at).getTime() + 32 * DAY_MS)).getTime() + 60_000);

    it("declines every charge beyond the payer's schedule, at the issuer and through the pay server, and books only the charges within it", async () => {
      // --- The payer consents, with a payment, to the schedule (issuer clock = now, so the signed terms are fresh).
      const session = await pay.system.payers.openSession({
        subject: "acct_drill_h",
        displayName: "Kim Minji",
        phoneNumber: null,
      });
      const wallet = new Wallet({
        trustedRoots: TEST_NETWORK_ROOTS,
        keyStore: new FileKeyStore(join(dir, "phone.json"), FileKeyStore.newDeviceSecret()),
        client: new PayClient({ baseUrl: payUrl, sessionToken: session.sessionToken.peek() }),
        keyStretching: "memory-constrained",
      });
      await wallet.bindThisDevice("Phone");
      await wallet.setPin(PIN);
      const card = await (await wallet.startCardEnrollment(CARD)).complete(await issuer.latestCode(CARD.phone));
      const consentedAt = new Date();
      const endDate = new Date(Math.floor((consentedAt.getTime() + 90 * DAY_MS) / 1000) * 1000);
      const consentPayment = await call<{ id: string }>(
        pay.app,
        "POST",
        "/v1/payments",
        pay.merchant.secretKey,
        paymentBody({
          amount: 9_900,
          setupFutureUsage: { maxAmount: MAX_AMOUNT, period: PERIOD, expiresAt: endDate.toISOString() },
        }),
      );
      expect(consentPayment.status).toBe(200);
      const { payment } = await wallet.approvePayment(consentPayment.body.id, {
        cardId: card.id,
        pin: PIN,
        confirm: async (_terms, mandate) => mandate?.period.maxCharges === 3 && mandate.period.maxTotal === 25_000,
      });
      expect(payment).toMatchObject({ status: "authorized", mandate: expect.stringMatching(/^rmd_/) });
      const mandateId = payment.mandate!;
      expect((await call(pay.app, "GET", `/v1/mandates/${mandateId}`, pay.merchant.secretKey)).body).toMatchObject({
        status: "active",
        maxAmount: MAX_AMOUNT,
        period: PERIOD,
        expiresAt: endDate.toISOString(),
      });

      // --- The breach: the KEK file, the acquirer credential and the database open the sealed token.
      const keyFile = join(dir, "stolen-kek.json");
      await copyFile(join(pay.config.dataDir, DEV_KEY_FILE_NAME), keyFile);
      const stolenSecret = await acquirerSecretOf(pay.config.issuers);
      expect(stolenSecret).toBe(acquirerSecret);
      const stolen: StolenMandate = await stealRecurringToken(pay.system.database.db, keyFile, mandateId);
      expect(stolen.token).toMatch(/^rtk_/);

      const outcomes: Outcome[] = [];
      const resultOf = (answer: AuthorizationAnswer) =>
        answer.decision === "approved" ? "approved" : answer.declineCode;
      const direct = async (amount: number) => {
        const answer = await chargeAtIssuer(issuer.url, stolenSecret, stolen, amount);
        outcomes.push({ paymentId: answer.paymentId, amount, via: "issuer", result: resultOf(answer) });
        return resultOf(answer);
      };
      const burst = async (count: number, amount: number) =>
        (await Promise.all(Array.from({ length: count }, () => direct(amount)))).sort();
      const throughPay = async (amount: number) => {
        const charged = await call<{ id: string; status: string; declineCode: string | null }>(
          pay.app,
          "POST",
          "/v1/payments",
          pay.merchant.secretKey,
          {
            amount,
            currency: "KRW",
            orderId: `drill-h-${outcomes.length}`,
            itemName: "Monthly plan",
            mandate: mandateId,
          },
        );
        expect(charged.status, JSON.stringify(charged.body)).toBe(200);
        const result = charged.body.status === "declined" ? (charged.body.declineCode ?? "declined") : "approved";
        outcomes.push({ paymentId: charged.body.id, amount, via: "pay server", result });
        return result;
      };
      const declined = (n: number) => Array.from({ length: n }, () => "mandate_limit_exceeded");

      // --- Next month: 8 charges at the cap at once get exactly the two the month's total allows.
      const firstMonth = nextMonth(consentedAt);
      issuerClockAt(firstMonth);
      expect(await burst(8, MAX_AMOUNT)).toEqual(["approved", "approved", ...declined(6)]);
      expect(await direct(MAX_AMOUNT + 1)).toBe("token_over_cap");
      expect(await throughPay(5_001)).toBe("mandate_limit_exceeded");
      expect(await direct(5_000)).toBe("approved");
      // The month's count and total are both spent: not even 1 KRW, by either way in.
      expect(await direct(1)).toBe("mandate_limit_exceeded");
      expect(await throughPay(1)).toBe("mandate_limit_exceeded");

      // --- The month after: the schedule opens again, and holds again.
      const secondMonth = nextMonth(firstMonth);
      expect(secondMonth.getTime()).toBeLessThan(endDate.getTime());
      issuerClockAt(secondMonth);
      expect(await throughPay(MAX_AMOUNT)).toBe("approved");
      expect(await burst(6, MAX_AMOUNT)).toEqual(["approved", ...declined(5)]);
      expect(await direct(5_001)).toBe("mandate_limit_exceeded");

      // --- Past the end date: nothing, whatever the period would allow.
      issuerClockAt(new Date(endDate.getTime() + 60_000));
      expect(await direct(1)).toBe("token_expired");
      expect(await throughPay(1)).toBe("token_expired");

      // --- The cardholder's books hold the consent payment and the charges within the schedule, nothing else.
      const approved = outcomes.filter((o) => o.result === "approved");
      expect(approved.map((o) => o.amount).sort((a, b) => a - b)).toEqual([5_000, 10_000, 10_000, 10_000, 10_000]);
      const connector = new SimulatorConnector({ baseUrl: issuer.url, acquirerSecret, timeoutMs: 10_000 });
      for (const outcome of outcomes) {
        const books = await connector.inquire("sampo", outcome.paymentId);
        if (outcome.result === "approved")
          expect(books, outcome.paymentId).toMatchObject({
            amount: outcome.amount,
            status: outcome.via === "pay server" ? "captured" : "approved",
          });
        else
          expect(books, outcome.paymentId).toMatchObject({
            status: "declined",
            decision: { declineCode: outcome.result },
          });
      }
      const view = await fetch(`${issuer.url}/issuers/sampo/backoffice/cards/${encodeURIComponent(card.cardRef)}`, {
        headers: { authorization: `Bearer ${operatorToken}` },
      });
      const cardBooks = backofficeCardSchema.parse(await view.json());
      const heldByThief = approved.filter((o) => o.via === "issuer");
      expect(cardBooks.holds.map((h) => h.paymentId).sort()).toEqual(
        [consentPayment.body.id, ...heldByThief.map((o) => o.paymentId)].sort(),
      );
      expect(cardBooks.captured).toBe(
        approved.filter((o) => o.via === "pay server").reduce((sum, o) => sum + o.amount, 0),
      );
      expect(cardBooks.books).toMatchObject({ balanced: true, creditUsed: 9_900 + 45_000 });
      expect(cardBooks.recurringTokens).toEqual([
        expect.objectContaining({ maxAmount: MAX_AMOUNT, period: PERIOD, expiresAt: endDate.toISOString() }),
      ]);
      // And the token itself was never written where a log reader would find it.
      expect(issuer.output()).not.toContain(stolen.token);
      expect(pay.logLines.join("\n")).not.toContain(stolen.token);
    });
  },
);
