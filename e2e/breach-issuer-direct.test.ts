/**
 * Breach drill of issue 4 ("requests sent straight to the issuer without a valid authentication result"): whoever
 * holds the acquirer secret — a compromised pay server, or a thief of its configuration — and even a valid
 * device-signed payment JWE, cannot have a payment authorized without the payer's user verification (DESIGN.md
 * "Split custody", point 3). The authentication result missing, forged (another key, the server's kid on a key of
 * the attacker's, HS256 keyed with the server's public key, `none`), or a genuine pay-server statement for other
 * terms, another payment, device or issuer, or a made-up passkey assertion: each is declined
 * `authentication_failed`, and nothing is held on the card. The genuine statement for these terms is approved,
 * so the declines are the authentication result's doing.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import canonicalize from "canonicalize";
import { CompactSign, generateKeyPair, importJWK } from "jose";
import { signWith, verifyIssuerCertificate } from "@mpay/crypto";
import { canonicalTerms, JOSE_TYPES, type ApprovalTerms, type IssuerCertificate } from "@mpay/protocol";
import { paymentJwe, type Card } from "@mpay/wallet";
import { TEST_NETWORK_ROOTS } from "@mpay/testing/network-roots";
import { systemBackends } from "../services/pay/src/testing/databases.ts";
import { termsHash } from "../services/pay/src/approvals/terms-hash.ts";
import { CARDS, openBreachNetwork, type BreachNetwork, type BreachPayer } from "./support/breach-network.ts";

const nowSeconds = () => Math.floor(Date.now() / 1000);
const b64 = (value: unknown) =>
  Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");

describe.each(systemBackends())(
  "breach drill: straight to the issuer without a valid authentication result [%s]",
  (backend) => {
    let net: BreachNetwork;
    let payer: BreachPayer;
    let card: Card;
    let sampo: IssuerCertificate;
    let device: { privateKey: CryptoKey; kid: string };
    let paymentCount = 0;

    beforeAll(async () => {
      net = await openBreachNetwork(backend, { issuers: ["sampo"] });
      payer = await net.newPayer("Kim Minji", { withPin: false });
      card = await net.enroll(payer, CARDS.sampo);
      const { certificate } = (await net.connector.listIssuers())[0]!;
      sampo = await verifyIssuerCertificate(certificate, TEST_NETWORK_ROOTS, nowSeconds());
      const { kid, publicJwk } = await payer.wallet.ensureDeviceKey();
      device = { kid, privateKey: (await importJWK({ ...publicJwk, d: payer.deviceKeyD }, "ES256")) as CryptoKey };
    });
    afterAll(async () => {
      await net?.close();
    });

    /** Fresh terms for this card and a valid device-signed JWE over them: all a request needs but the authentication. */
    async function signedPayment(): Promise<{ terms: ApprovalTerms; request: Record<string, unknown> }> {
      const iat = nowSeconds();
      const terms: ApprovalTerms = {
        aud: "sampo",
        cardRef: card.cardRef,
        paymentId: `pay_direct_${++paymentCount}_${randomBytes(4).toString("hex")}`,
        merchantId: net.pay.merchant.id,
        merchantName: "Test Shop",
        amount: 49000,
        currency: "KRW",
        captureMethod: "manual",
        nonce: randomBytes(16).toString("base64url"),
        iat,
        exp: iat + 240,
      };
      const payment = await paymentJwe(sampo, device.privateKey, device.kid, terms, {
        pan: CARDS.sampo.pan,
        expiry: CARDS.sampo.expiry,
      });
      const { paymentId, merchantId, merchantName, amount, currency, captureMethod, cardRef } = terms;
      return {
        terms,
        request: { paymentId, merchantId, merchantName, amount, currency, captureMethod, cardRef, payment },
      };
    }

    /** The pay server's genuine PIN statement (its own signer), for `terms` unless overridden. */
    function statementFor(
      terms: ApprovalTerms,
      overrides: Partial<{ aud: string; paymentId: string; termsHash: string; deviceKid: string }> = {},
    ): Promise<string> {
      return net.pay.system.statementSigner.signPinStatement({
        aud: terms.aud,
        paymentId: terms.paymentId,
        challengeId: "apc_direct",
        termsHash: termsHash(canonicalTerms(terms)),
        deviceKid: device.kid,
        iat: nowSeconds(),
        exp: terms.exp,
        ...overrides,
      });
    }

    async function authorizeDirectly(
      body: Record<string, unknown>,
    ): Promise<{ status: number; body: Record<string, unknown> }> {
      const response = await fetch(`${net.issuerUrl}/issuers/sampo/authorizations`, {
        method: "POST",
        headers: { authorization: `Bearer ${net.acquirerSecret}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    }

    it("declines every request whose authentication result is missing, forged or for something else, and holds nothing", async () => {
      const payKid = (await net.pay.system.statementSigner.jwks()).keys[0]!.kid!;
      const payJwks = JSON.stringify(await net.pay.system.statementSigner.jwks());
      const attacker = await generateKeyPair("ES256");
      const forgedClaims = (terms: ApprovalTerms) => ({
        iss: net.pay.config.publicUrl,
        aud: "sampo",
        method: "pin",
        paymentId: terms.paymentId,
        challengeId: "apc_forged",
        termsHash: termsHash(canonicalTerms(terms)),
        deviceKid: device.kid,
        iat: nowSeconds(),
        exp: terms.exp,
      });
      const otherTerms = (terms: ApprovalTerms): ApprovalTerms => ({
        ...terms,
        amount: 1000,
        nonce: randomBytes(16).toString("base64url"),
      });

      const cases: Array<{
        what: string;
        authentication: (terms: ApprovalTerms) => Promise<Record<string, unknown> | undefined>;
      }> = [
        { what: "no authentication result", authentication: async () => undefined },
        {
          what: "an empty statement-shaped string",
          authentication: async () => ({ method: "pin", statement: "e30.e30.e30" }),
        },
        {
          what: "a statement signed by the attacker under the pay server's kid",
          authentication: async (terms) => ({
            method: "pin",
            statement: await signWith(
              new TextEncoder().encode(canonicalize(forgedClaims(terms))),
              attacker.privateKey,
              { typ: JOSE_TYPES.pinStatement, kid: payKid },
            ),
          }),
        },
        {
          what: "a statement signed by a key the pay server does not publish",
          authentication: async (terms) => ({
            method: "pin",
            statement: await signWith(
              new TextEncoder().encode(canonicalize(forgedClaims(terms))),
              attacker.privateKey,
              { typ: JOSE_TYPES.pinStatement, kid: "attacker-key" },
            ),
          }),
        },
        {
          what: "an HS256 statement keyed with the pay server's public key set",
          authentication: async (terms) => ({
            method: "pin",
            statement: await new CompactSign(new TextEncoder().encode(canonicalize(forgedClaims(terms))))
              .setProtectedHeader({ alg: "HS256", typ: JOSE_TYPES.pinStatement, kid: payKid })
              .sign(new TextEncoder().encode(payJwks)),
          }),
        },
        {
          what: "an unsigned (alg none) statement",
          authentication: async (terms) => ({
            method: "pin",
            statement: `${b64({ alg: "none", typ: JOSE_TYPES.pinStatement, kid: payKid })}.${b64(canonicalize(forgedClaims(terms)))}.`,
          }),
        },
        {
          what: "the pay server's statement for other terms",
          authentication: async (terms) => ({
            method: "pin",
            statement: await statementFor(terms, { termsHash: termsHash(canonicalTerms(otherTerms(terms))) }),
          }),
        },
        {
          what: "the pay server's statement for another payment",
          authentication: async (terms) => ({
            method: "pin",
            statement: await statementFor(terms, { paymentId: `${terms.paymentId}_other` }),
          }),
        },
        {
          what: "the pay server's statement for another device",
          authentication: async (terms) => ({
            method: "pin",
            statement: await statementFor(terms, { deviceKid: "another-device-kid" }),
          }),
        },
        {
          what: "the pay server's statement for another issuer",
          authentication: async (terms) => ({ method: "pin", statement: await statementFor(terms, { aud: "kstar" }) }),
        },
        {
          what: "a made-up passkey assertion",
          authentication: async () => ({
            method: "passkey",
            assertion: {
              id: "bWFkZS11cA",
              rawId: "bWFkZS11cA",
              type: "public-key",
              clientExtensionResults: {},
              response: { clientDataJSON: "e30", authenticatorData: "AAAA", signature: "AAAA" },
            },
          }),
        },
      ];

      const declined: string[] = [];
      for (const { what, authentication } of cases) {
        const { terms, request } = await signedPayment();
        const result = await authentication(terms);
        const answer = await authorizeDirectly({ ...request, ...(result ? { authentication: result } : {}) });
        expect([answer.status, answer.body["decision"], answer.body["declineCode"]], what).toEqual([
          200,
          "declined",
          "authentication_failed",
        ]);
        declined.push(terms.paymentId);
      }
      const view = await net.backofficeCard("sampo", card.cardRef);
      expect(view.holds.filter((h) => declined.includes(h.paymentId))).toEqual([]);
      expect(view.openToBuy).toBe(view.creditLimit);

      // The control: the genuine statement for exactly these terms is approved, and only it holds the amount.
      const { terms, request } = await signedPayment();
      const approved = await authorizeDirectly({
        ...request,
        authentication: { method: "pin", statement: await statementFor(terms) },
      });
      expect([approved.status, approved.body["decision"]]).toEqual([200, "approved"]);
      expect((await net.backofficeCard("sampo", card.cardRef)).holds.map((h) => [h.paymentId, h.amount])).toEqual([
        [terms.paymentId, 49000],
      ]);
    });
  },
);
