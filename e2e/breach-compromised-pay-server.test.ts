/**
 * Breach drills (c), (d) and (e) of issue 4: a fully compromised pay server can neither change what the payer
 * approved, nor reuse an approval for another payment, nor read a card by handing the wallet a key of its own
 * (DESIGN.md "Split custody", payment step 2 and point 4).
 *
 * The compromised pay server is played with its own code: its issuer connector is wrapped (TamperingConnector) so
 * that it alters the authorization it forwards, and a proxy between the wallet and it rewrites what it tells the
 * wallet.
 * - (c) Amount, merchant id or merchant name changed on the way to the issuer → `terms_mismatch`; the envelope
 *   altered, the request moved to a card the device is not bound to, or changed terms re-signed with a key of the
 *   server's own → `bad_signature`. Every time the payment is declined and the issuer holds nothing on the card.
 * - (d) Payment A's issuer JWE sent as payment B's → `terms_mismatch`; sent again under A's own id → A's first
 *   decision. The issuer holds A's amount once, and nothing for the others.
 * - (e) A substitute issuer certificate (signed by a root the wallet does not ship; forged under a shipped root's
 *   kid; the real certificate with its key swapped) → the wallet refuses to enroll and to pay with
 *   `issuer_not_trusted`, and nothing reaches the pay server's relay routes or the issuer.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from "jose";
import type { ApprovalTerms, AuthorizationRequest, IssuerCertificate } from "@mpay/protocol";
import { signIssuerCertificate, verifyIssuerCertificate } from "@mpay/crypto";
import { isWalletError, paymentJwe, type Card } from "@mpay/wallet";
import { TEST_NETWORK_ROOTS } from "@mpay/testing/network-roots";
import { systemBackends } from "../services/pay/src/testing/databases.ts";
import { call } from "../services/pay/src/testing/system.ts";
import { CARDS, openBreachNetwork, PIN, type BreachNetwork, type BreachPayer } from "./support/breach-network.ts";
import { startRecordingProxy, type RecordingProxy } from "./support/recording-proxy.ts";

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail("expected a rejection"),
    (error: unknown) => error,
  );
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Three certificates for `issuerId` that name a key of the attacker's instead of the issuer's. */
async function substituteCertificates(genuine: string): Promise<Array<{ what: string; certificate: string }>> {
  const [header, payload, signature] = genuine.split(".") as [string, string, string];
  const content = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as IssuerCertificate;
  const attackerKey = await generateKeyPair("ECDH-ES+A256KW", { crv: "P-256", extractable: true });
  const { x, y } = await exportJWK(attackerKey.publicKey);
  const jwk = { kty: "EC" as const, crv: "P-256" as const, x: x!, y: y! };
  const swapped: IssuerCertificate = { ...content, jwk, kid: await calculateJwkThumbprint(jwk) };
  const root = await generateKeyPair("ES256", { extractable: true });
  const rootKid = await calculateJwkThumbprint(await exportJWK(root.publicKey));
  return [
    {
      what: "signed by a root the wallet does not ship",
      certificate: await signIssuerCertificate(swapped, root.privateKey, rootKid),
    },
    {
      what: "forged under the kid of a root the wallet ships",
      certificate: await signIssuerCertificate(swapped, root.privateKey, TEST_NETWORK_ROOTS[0]!.kid),
    },
    {
      what: "the real certificate with its key swapped",
      certificate: [header, Buffer.from(JSON.stringify(swapped)).toString("base64url"), signature].join("."),
    },
  ];
}

describe.each(systemBackends())("breach drills: a compromised pay server [%s]", (backend) => {
  let net: BreachNetwork;
  let proxy: RecordingProxy;
  let payer: BreachPayer;
  let card: Card;

  beforeAll(async () => {
    net = await openBreachNetwork(backend, { issuers: ["sampo"] });
    proxy = await startRecordingProxy(net.payUrl);
    payer = await net.newPayer("Kim Minji", { baseUrl: proxy.url });
    card = await net.enroll(payer, CARDS.sampo);
  });
  afterAll(async () => {
    await proxy?.close();
    await net?.close();
  });

  const approve = (who: BreachPayer, paymentId: string, cardId: string) =>
    who.wallet.approvePayment(paymentId, { cardId, pin: PIN, confirm: async () => true });
  const holdsOf = async (cardRef: string) =>
    (await net.backofficeCard("sampo", cardRef)).holds.map((h) => ({ paymentId: h.paymentId, amount: h.amount }));

  it("(c) declines a payment whose amount, merchant, card or envelope the pay server changed, and holds nothing", async () => {
    const before = await net.backofficeCard("sampo", card.cardRef);
    const other = await net.pay.createMerchant("Other Mall");
    const { cardRef: foreignCardRef } = await net.enroll(await net.newPayer("Lee Jiho"), CARDS.sampoMaster);
    const { certificate } = (await net.connector.listIssuers()).find((i) => i.issuerId === "sampo")!;
    const sampo = await verifyIssuerCertificate(certificate, TEST_NETWORK_ROOTS, nowSeconds());
    const serverKey = await generateKeyPair("ES256");
    const deviceKid = (await payer.wallet.ensureDeviceKey()).kid;

    const tampers: Array<{
      what: string;
      declineCode: string;
      tamper: (r: AuthorizationRequest) => AuthorizationRequest | Promise<AuthorizationRequest>;
    }> = [
      { what: "amount", declineCode: "terms_mismatch", tamper: (r) => ({ ...r, amount: r.amount * 100 }) },
      { what: "merchant id", declineCode: "terms_mismatch", tamper: (r) => ({ ...r, merchantId: other.id }) },
      { what: "merchant name", declineCode: "terms_mismatch", tamper: (r) => ({ ...r, merchantName: "Other Mall" }) },
      {
        what: "amount and merchant",
        declineCode: "terms_mismatch",
        tamper: (r) => ({ ...r, amount: r.amount + 1, merchantId: other.id, merchantName: "Other Mall" }),
      },
      {
        what: "card (another payer's, same issuer)",
        declineCode: "bad_signature",
        tamper: (r) => ({ ...r, cardRef: foreignCardRef }),
      },
      {
        what: "envelope (one ciphertext bit)",
        declineCode: "bad_signature",
        tamper: (r) => {
          if (!("payment" in r)) throw new Error("not a device payment");
          const parts = r.payment.split(".");
          const ciphertext = Buffer.from(parts[3]!, "base64url");
          ciphertext[0] = ciphertext[0]! ^ 1;
          parts[3] = ciphertext.toString("base64url");
          return { ...r, payment: parts.join(".") };
        },
      },
      {
        // The server has no device key: it signs the changed terms with one of its own under the device's kid.
        what: "terms re-signed by the server",
        declineCode: "bad_signature",
        tamper: async (r) => {
          if (!("payment" in r)) throw new Error("not a device payment");
          const iat = nowSeconds();
          const terms: ApprovalTerms = {
            aud: "sampo",
            cardRef: r.cardRef,
            paymentId: r.paymentId,
            merchantId: other.id,
            merchantName: "Other Mall",
            amount: 990_000,
            currency: r.currency,
            captureMethod: r.captureMethod,
            nonce: "c2VydmVyLW1hZGUtbm9uY2U",
            iat,
            exp: iat + 240,
          };
          const payment = await paymentJwe(sampo, serverKey.privateKey, deviceKid, terms, {
            pan: CARDS.sampo.pan,
            expiry: CARDS.sampo.expiry,
          });
          return { ...r, merchantId: other.id, merchantName: "Other Mall", amount: 990_000, payment };
        },
      },
    ];

    const declined: string[] = [];
    for (const { what, declineCode, tamper } of tampers) {
      const paymentId = await net.newPayment(35000);
      const forwarded = net.connector.authorizations.length;
      net.connector.tamper = tamper;
      try {
        const { payment } = await approve(payer, paymentId, card.id);
        expect(payment, what).toMatchObject({ id: paymentId, status: "declined", declineCode });
      } finally {
        net.connector.tamper = undefined;
      }
      expect(net.connector.authorizations.length - forwarded, what).toBe(1);
      expect(await net.issuerBooks("sampo", paymentId), what).toMatchObject({
        status: "declined",
        decision: { decision: "declined", declineCode },
      });
      const merchantView = await call<{ status: string; declineCode: string }>(
        net.pay.app,
        "GET",
        `/v1/payments/${paymentId}`,
        net.pay.merchant.secretKey,
      );
      expect(merchantView.body, what).toMatchObject({ status: "declined", declineCode });
      declined.push(paymentId);
    }
    // Nothing is held on the payer's card, nor on the card a request was moved to.
    const after = await net.backofficeCard("sampo", card.cardRef);
    expect(after.holds).toEqual(before.holds);
    expect(after.openToBuy).toBe(before.openToBuy);
    expect((await holdsOf(foreignCardRef)).filter((h) => declined.includes(h.paymentId))).toEqual([]);
  });

  it("(d) declines payment A's issuer JWE replayed as payment B's, and never holds A twice", async () => {
    const before = await net.backofficeCard("sampo", card.cardRef);
    const a = await net.newPayment(21000);
    const forwarded = net.connector.authorizations.length;
    expect((await approve(payer, a, card.id)).payment).toMatchObject({ id: a, status: "authorized" });
    const sentForA = net.connector.authorizations[forwarded];
    if (!sentForA || !("payment" in sentForA)) throw new Error("payment A's request was not recorded");
    const jweOfA = sentForA.payment;

    // B has A's amount and merchant: only the payment id tells them apart, and the device signed A's.
    const b = await net.newPayment(21000);
    net.connector.tamper = (r) => ({ ...r, payment: jweOfA });
    try {
      expect((await approve(payer, b, card.id)).payment).toMatchObject({
        id: b,
        status: "declined",
        declineCode: "terms_mismatch",
      });
    } finally {
      net.connector.tamper = undefined;
    }
    expect(await net.issuerBooks("sampo", b)).toMatchObject({
      status: "declined",
      decision: { declineCode: "terms_mismatch" },
    });

    // C's request rewritten into A's exactly (id, terms, JWE): the issuer answers A's first decision, holds nothing new.
    const c = await net.newPayment(21000);
    net.connector.tamper = () => sentForA;
    try {
      await approve(payer, c, card.id).catch(() => undefined);
    } finally {
      net.connector.tamper = undefined;
    }
    expect(await net.issuerBooks("sampo", c)).toBeNull();

    const after = await net.backofficeCard("sampo", card.cardRef);
    expect(
      after.holds
        .filter((h) => !before.holds.some((old) => old.paymentId === h.paymentId))
        .map((h) => [h.paymentId, h.amount]),
    ).toEqual([[a, 21000]]);
    expect(after.openToBuy).toBe(before.openToBuy - 21000);
  });

  it("(e) refuses to enroll or pay when the pay server hands the wallet a substitute issuer certificate", async () => {
    const listing = JSON.parse(
      proxy.exchanges.find((e) => e.url === "/v1/payer/issuers" && e.status === 200)!.responseBody,
    ) as { data: Array<{ issuerId: string; certificate: string }> };
    const genuine = listing.data.find((i) => i.issuerId === "sampo")!.certificate;
    const substitutes = await substituteCertificates(genuine);
    const substitute = (certificate: string) => (exchange: { url: string; status: number; responseBody: string }) => {
      if (exchange.url !== "/v1/payer/issuers" || exchange.status !== 200) return undefined;
      const body = JSON.parse(exchange.responseBody) as { data: Array<{ issuerId: string; certificate: string }> };
      return JSON.stringify({
        ...body,
        data: body.data.map((i) => (i.issuerId === "sampo" ? { ...i, certificate } : i)),
      });
    };
    const relayed = (from: number) =>
      proxy.exchanges
        .slice(from)
        .filter(
          (e) => e.method === "POST" && /\/v1\/payer\/(cards\/enrollments|approvals\/[^/]+\/authorize)/.test(e.url),
        );
    const newcomer = await net.newPayer("Park Seoyeon", { baseUrl: proxy.url });

    for (const { what, certificate } of substitutes) {
      proxy.setRewrite(substitute(certificate));
      const mark = proxy.exchanges.length;
      const issuerCalls = net.connector.calls.length;
      try {
        // Enrollment: the PAN is never encrypted to the substitute key, and nothing is relayed.
        const enrolling = await rejection(
          newcomer.wallet.startCardEnrollment({
            pan: CARDS.sampoLocal.pan,
            expiry: CARDS.sampoLocal.expiry,
            cvc: CARDS.sampoLocal.cvc,
          }),
        );
        expect(isWalletError(enrolling, "issuer_not_trusted"), `${what}: ${String(enrolling)}`).toBe(true);

        // Payment: the card is released to the device, but the wallet builds no JWE to the substitute key.
        const paymentId = await net.newPayment(15000);
        const paying = await rejection(approve(payer, paymentId, card.id));
        expect(isWalletError(paying, "issuer_not_trusted"), `${what}: ${String(paying)}`).toBe(true);
        expect(await net.issuerBooks("sampo", paymentId)).toBeNull();
        const merchantView = await call<{ status: string }>(
          net.pay.app,
          "GET",
          `/v1/payments/${paymentId}`,
          net.pay.merchant.secretKey,
        );
        expect(merchantView.body.status).toBe("requires_approval");
      } finally {
        proxy.setRewrite(undefined);
      }
      expect(relayed(mark), what).toEqual([]);
      expect(net.connector.calls.slice(issuerCalls), what).toEqual([]);
    }

    // The same wallet, told the truth again, enrolls and pays: the refusals were the certificates' doing.
    const pending = await newcomer.wallet.startCardEnrollment({
      pan: CARDS.sampoLocal.pan,
      expiry: CARDS.sampoLocal.expiry,
      cvc: CARDS.sampoLocal.cvc,
    });
    const enrolled = await pending.complete(await net.latestCode(CARDS.sampoLocal.phone));
    expect((await approve(newcomer, await net.newPayment(15000), enrolled.id)).payment.status).toBe("authorized");
  });
});
