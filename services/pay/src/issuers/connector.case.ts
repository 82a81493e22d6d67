/**
 * The conformance suite every issuer connector must pass (STYLE.md: one shared suite per interface, run against
 * each implementation). It drives the IssuerConnector contract as the pay server uses it, against a real issuer:
 * listing with certificates a wallet trusts, enrollment with the cardholder's code, authorizations that are
 * idempotent per payment, inquiry, capture/void/refund idempotent by operation id and bounded by the books,
 * device unbinding, card-on-file tokens held to the schedule the payer signed (cap per charge, count and total
 * per period, end date, on the issuer's clock), and the normalisation of failures into `refused` and `unavailable`.
 * A connector's own test file calls `connectorConformance` with a way to reach an issuer of its network.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from "jose";
import {
  canonicalTerms,
  periodStart,
  type ApprovalTerms,
  type EcPublicJwk,
  type MandatePeriod,
  type MandateTerms,
  type PinStatement,
} from "@mpay/protocol";
import { certifiedIssuer, enrollmentJwe, mandateJwe, paymentJwe } from "@mpay/wallet";
import { TEST_NETWORK_ROOTS } from "@mpay/testing/network-roots";
import { termsHash } from "../approvals/terms-hash.ts";
import { IssuerError, type IssuerConnector } from "./connector.ts";

export interface TestCardInput {
  pan: string;
  expiry: string;
  cvc: string;
  /** The phone on file, where the issuer's code goes. */
  phone: string;
}

export interface ConnectorUnderTest {
  connector: IssuerConnector;
  issuerId: string;
  /** Cards of that issuer: one that approves (high limit), one that declines above a low limit. */
  cards: { approves: TestCardInput; lowLimit: TestCardInput & { limit: number } };
  /** The newest code sent to `phone` (a test inbox, an SMS gateway's sandbox…). */
  latestCode(phone: string): Promise<string>;
  /** The pay server's statement that the PIN was verified, signed with the key the issuer trusts. */
  signPinStatement(statement: Omit<PinStatement, "iss" | "method">): Promise<string>;
  /** The issuer's clock, which the suite reads for every time it signs and moves to end periods and mandates. */
  issuerClock: { seconds(): number; advance(seconds: number): void };
  /** The same connector with a wrong acquirer credential, and one pointed at an address nobody serves. */
  unauthorized: IssuerConnector;
  unreachable: IssuerConnector;
  close(): Promise<void>;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (error: unknown) => error,
  );
}

export function connectorConformance(name: string, open: () => Promise<ConnectorUnderTest>): void {
  describe(`issuer connector conformance: ${name}`, () => {
    let t: ConnectorUnderTest;
    let device: { privateKey: CryptoKey; publicJwk: EcPublicJwk; kid: string };
    let cardRef = "";
    let lowCardRef = "";
    beforeAll(async () => {
      t = await open();
      const pair = await generateKeyPair("ES256");
      const { x, y } = await exportJWK(pair.publicKey);
      const publicJwk: EcPublicJwk = { kty: "EC", crv: "P-256", x: x!, y: y! };
      device = { privateKey: pair.privateKey, publicJwk, kid: await calculateJwkThumbprint(publicJwk, "sha256") };
    });
    afterAll(() => t?.close());

    const now = () => t.issuerClock.seconds();
    const certificate = async (pan: string) =>
      certifiedIssuer(t.issuerId, await t.connector.listIssuers(), TEST_NETWORK_ROOTS, now(), pan);
    const enroll = async (card: TestCardInput) => {
      const jwe = await enrollmentJwe(await certificate(card.pan), card, device.publicJwk, now());
      const started = await t.connector.enroll(t.issuerId, { enrollment: jwe, payerRef: "usr_conformance" });
      return t.connector.verifyEnrollment(t.issuerId, started.enrollmentId, await t.latestCode(card.phone));
    };
    /** Terms, the device's JWE and the PIN statement for one payment of `amount`, as the pay server would send them. */
    const request = async (
      card: TestCardInput,
      ref: string,
      amount: number,
      captureMethod: "manual" | "automatic" = "manual",
    ) => {
      const paymentId = `pay_${randomBytes(8).toString("hex")}`;
      const terms: ApprovalTerms = {
        aud: t.issuerId,
        cardRef: ref,
        paymentId,
        merchantId: "mch_conformance",
        merchantName: "Conformance Shop",
        amount,
        currency: "KRW",
        captureMethod,
        nonce: randomBytes(16).toString("base64url"),
        iat: now(),
        exp: now() + 240,
      };
      const payment = await paymentJwe(await certificate(card.pan), device.privateKey, device.kid, terms, {
        pan: card.pan,
        expiry: card.expiry,
      });
      const statement = await t.signPinStatement({
        aud: t.issuerId,
        paymentId,
        challengeId: "chl_conformance",
        termsHash: termsHash(canonicalTerms(terms)),
        deviceKid: device.kid,
        iat: terms.iat,
        exp: terms.exp,
      });
      return {
        paymentId,
        terms,
        body: {
          paymentId,
          merchantId: terms.merchantId,
          merchantName: terms.merchantName,
          amount,
          currency: "KRW",
          captureMethod,
          cardRef: ref,
          payment,
          authentication: { method: "pin" as const, statement },
        },
      };
    };

    it("lists the issuer with a certificate the wallet's network roots verify", async () => {
      const listed = await t.connector.listIssuers();
      expect(listed.map((i) => i.issuerId)).toContain(t.issuerId);
      expect((await certificate(t.cards.approves.pan)).issuerId).toBe(t.issuerId);
    });

    it("enrolls a card with the cardholder's code and binds the device key", async () => {
      const enrolled = await enroll(t.cards.approves);
      expect(enrolled).toMatchObject({ last4: t.cards.approves.pan.slice(-4), deviceKid: device.kid });
      cardRef = enrolled.cardRef;
      lowCardRef = (await enroll(t.cards.lowLimit)).cardRef;
    });

    it("refuses an enrollment it cannot verify as `refused`, saying nothing of which field", async () => {
      const wrong = { ...t.cards.approves, cvc: t.cards.approves.cvc === "000" ? "001" : "000" };
      const jwe = await enrollmentJwe(await certificate(wrong.pan), wrong, device.publicJwk, now());
      const error = await rejection(t.connector.enroll(t.issuerId, { enrollment: jwe, payerRef: "usr_conformance" }));
      expect(error).toBeInstanceOf(IssuerError);
      expect(error).toMatchObject({ kind: "refused" });
      expect(String((error as Error).message)).not.toMatch(/cvc|expiry|pan/i);
    });

    it("authorizes once per payment: a repeat gets the first decision; inquiry shows the books", async () => {
      const { paymentId, body } = await request(t.cards.approves, cardRef, 12_000);
      const first = await t.connector.authorize(t.issuerId, body);
      expect(first).toMatchObject({ paymentId, decision: "approved" });
      expect(await t.connector.authorize(t.issuerId, body)).toEqual(first);
      expect(await t.connector.inquire(t.issuerId, paymentId)).toMatchObject({
        paymentId,
        status: "approved",
        amount: 12_000,
        amountCaptured: 0,
        decision: first,
      });
      expect(await t.connector.inquire(t.issuerId, "pay_never_sent")).toBeNull();
    });

    it("answers a decline as a decision with its code, not as an error", async () => {
      const { body } = await request(t.cards.lowLimit, lowCardRef, t.cards.lowLimit.limit + 1);
      expect(await t.connector.authorize(t.issuerId, body)).toMatchObject({
        decision: "declined",
        declineCode: "insufficient_funds",
      });
    });

    it("captures, refunds and voids idempotently by operation id, within the books", async () => {
      const captured = await request(t.cards.approves, cardRef, 20_000);
      await t.connector.authorize(t.issuerId, captured.body);
      const capture = await t.connector.capture(t.issuerId, captured.paymentId, {
        operationId: "op_cap_1",
        amount: 15_000,
      });
      expect(capture).toMatchObject({ status: "captured", amountCaptured: 15_000 });
      expect(
        await t.connector.capture(t.issuerId, captured.paymentId, { operationId: "op_cap_1", amount: 15_000 }),
      ).toEqual(capture);
      expect(
        await t.connector.refund(t.issuerId, captured.paymentId, { operationId: "op_ref_1", amount: 5_000 }),
      ).toMatchObject({ amountRefunded: 5_000 });
      expect(
        await t.connector.refund(t.issuerId, captured.paymentId, { operationId: "op_ref_1", amount: 5_000 }),
      ).toMatchObject({ amountRefunded: 5_000 });
      expect(
        await rejection(
          t.connector.refund(t.issuerId, captured.paymentId, { operationId: "op_ref_2", amount: 10_001 }),
        ),
      ).toMatchObject({ kind: "refused" });
      const voided = await request(t.cards.approves, cardRef, 3_000);
      await t.connector.authorize(t.issuerId, voided.body);
      expect(await t.connector.void(t.issuerId, voided.paymentId, { operationId: "op_void_1" })).toMatchObject({
        status: "voided",
      });
      expect(
        await rejection(t.connector.capture(t.issuerId, voided.paymentId, { operationId: "op_cap_2", amount: 3_000 })),
      ).toMatchObject({ kind: "refused" });
    });

    /** A token from a mandate the device signed: at most `maxAmount` a charge, on `period`, ending in `days`. */
    const recurringToken = async (maxAmount: number, period: MandatePeriod, days: number) => {
      const cert = await certificate(t.cards.approves.pan);
      const mandate: MandateTerms = {
        aud: t.issuerId,
        cardRef,
        merchantId: "mch_conformance",
        merchantName: "Conformance Shop",
        maxAmount,
        period,
        currency: "KRW",
        expiresAt: now() + days * 86_400,
        nonce: randomBytes(16).toString("base64url"),
        iat: now(),
      };
      const card = { pan: t.cards.approves.pan, expiry: t.cards.approves.expiry };
      return t.connector.createRecurringToken(t.issuerId, {
        mandate: await mandateJwe(cert, device.privateKey, device.kid, mandate, card),
        payerRef: "usr_conformance",
      });
    };
    const chargeOf = (token: string) => (amount: number) =>
      t.connector.authorize(t.issuerId, {
        paymentId: `pay_${randomBytes(8).toString("hex")}`,
        merchantId: "mch_conformance",
        merchantName: "Conformance Shop",
        amount,
        currency: "KRW",
        captureMethod: "automatic",
        recurringToken: token,
      });

    it("issues, charges and revokes a card-on-file token", async () => {
      const token = await recurringToken(10_000, { interval: "month", maxCharges: 10, maxTotal: 100_000 }, 1);
      expect(token).toMatchObject({
        merchantId: "mch_conformance",
        maxAmount: 10_000,
        period: { interval: "month", maxCharges: 10, maxTotal: 100_000 },
        currency: "KRW",
      });
      const charge = chargeOf(token.token);
      expect(await charge(9_000)).toMatchObject({ decision: "approved" });
      expect(await charge(10_001)).toMatchObject({ decision: "declined", declineCode: "token_over_cap" });
      await t.connector.revokeRecurringToken(t.issuerId, token.token);
      expect(await charge(1_000)).toMatchObject({ decision: "declined" });
    });

    it("holds a token to the schedule the payer signed: count and total per period, then the end date, on the issuer's clock", async () => {
      // A minute into the next UTC day, so that no period ends halfway through.
      const nextDay = periodStart("day", new Date((now() + 86_400) * 1000)).getTime() / 1000;
      t.issuerClock.advance(nextDay + 60 - now());
      const token = await recurringToken(10_000, { interval: "day", maxCharges: 2, maxTotal: 15_000 }, 3);
      const charge = chargeOf(token.token);
      expect(await charge(10_000)).toMatchObject({ decision: "approved" });
      expect(await charge(5_001)).toMatchObject({ decision: "declined", declineCode: "mandate_limit_exceeded" });
      expect(await charge(5_000)).toMatchObject({ decision: "approved" });
      expect(await charge(1)).toMatchObject({ decision: "declined", declineCode: "mandate_limit_exceeded" });
      t.issuerClock.advance(86_400);
      expect(await charge(10_000)).toMatchObject({ decision: "approved" });
      t.issuerClock.advance(3 * 86_400);
      expect(await charge(1)).toMatchObject({ decision: "declined", declineCode: "token_expired" });
    });

    it("refuses a mandate whose schedule bounds nothing as `refused`", async () => {
      const error = await rejection(recurringToken(10_000, { interval: "month", maxCharges: 2, maxTotal: 20_001 }, 30));
      expect(error).toMatchObject({ kind: "refused", code: "mandate_refused" });
    });

    it("unbinds a device with an acknowledgement; what it signs afterwards is declined", async () => {
      const { body } = await request(t.cards.approves, cardRef, 1_000);
      expect((await t.connector.unbindDevice(t.issuerId, device.kid)).bindings).toBeGreaterThanOrEqual(1);
      expect(await t.connector.authorize(t.issuerId, body)).toMatchObject({
        decision: "declined",
        declineCode: "bad_signature",
      });
    });

    it("normalises failures: a refused credential is `refused`, nobody answering is `unavailable`", async () => {
      expect(await rejection(t.unauthorized.inquire(t.issuerId, "pay_x"))).toMatchObject({ kind: "refused" });
      expect(await rejection(t.unreachable.inquire(t.issuerId, "pay_x"))).toMatchObject({ kind: "unavailable" });
      expect(await rejection(t.unreachable.listIssuers())).toMatchObject({ kind: "unavailable" });
    });
  });
}
