/**
 * Breach drill (h) of issue 4: only `ECDH-ES+A256KW` with `A256GCM` is accepted anywhere a JWE carries card data
 * (DESIGN.md "Split custody", payment step 2), and the wallet encrypts a card only to an issuer whose certificate
 * covers its BIN (point 4).
 *
 * Real JWEs with `alg` `RSA1_5` (made by hand with node:crypto, as jose no longer makes them), `dir` and
 * `PBES2-*`, around exactly what the wallet would send (the enrollment data; the device-signed terms and card),
 * are sent to the pay server's enrollment and authorize routes and straight to the issuer (with the acquirer
 * secret): refused every time (`jose_algorithm_refused` at the pay server, `enrollment_refused` and a
 * `bad_signature` decline at the issuer), while the same content in the accepted algorithm goes through. Then a
 * pay server that lists a genuine certificate whose BIN ranges do not cover the card: the wallet refuses to enroll
 * and to pay, and relays nothing.
 */
import { constants, createCipheriv, createHash, generateKeyPairSync, publicEncrypt, randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import canonicalize from "canonicalize";
import { CompactEncrypt, importJWK } from "jose";
import { encryptTo, signWith, verifyIssuerCertificate } from "@mpay/crypto";
import { JOSE_TYPES, type ApprovalTerms, type IssuerCertificate } from "@mpay/protocol";
import { isPayApiError, isWalletError, signStatement, type Card } from "@mpay/wallet";
import { TEST_NETWORK_ROOTS } from "@mpay/testing/network-roots";
import { systemBackends } from "../services/pay/src/testing/databases.ts";
import { CARDS, openBreachNetwork, PIN, type BreachNetwork, type BreachPayer } from "./support/breach-network.ts";
import { startRecordingProxy, type RecordingProxy } from "./support/recording-proxy.ts";

type Envelope = (plaintext: Uint8Array, header: { typ: string; kid: string }) => Promise<string>;

/** RSA1_5 + A256GCM by hand: a fresh RSA key (the attacker's choice) wraps the CEK with PKCS#1 v1.5 padding. */
const rsa15: Envelope = async (plaintext, header) => {
  const { publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const cek = randomBytes(32);
  const iv = randomBytes(12);
  const protectedHeader = Buffer.from(JSON.stringify({ alg: "RSA1_5", enc: "A256GCM", ...header })).toString(
    "base64url",
  );
  const encryptedKey = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, cek);
  const cipher = createCipheriv("aes-256-gcm", cek, iv).setAAD(Buffer.from(protectedHeader, "ascii"));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return [protectedHeader, encryptedKey, iv, ciphertext, cipher.getAuthTag()]
    .map((part) => (typeof part === "string" ? part : part.toString("base64url")))
    .join(".");
};
const jose =
  (alg: string, key: Uint8Array): Envelope =>
  (plaintext, header) =>
    new CompactEncrypt(plaintext).setProtectedHeader({ alg, enc: "A256GCM", ...header }).encrypt(key);

const REFUSED_ENVELOPES: Array<{ alg: string; envelope: Envelope }> = [
  { alg: "RSA1_5", envelope: rsa15 },
  { alg: "dir", envelope: jose("dir", randomBytes(32)) },
  {
    alg: "PBES2-HS256+A128KW",
    envelope: jose("PBES2-HS256+A128KW", new TextEncoder().encode("correct horse battery staple")),
  },
  {
    alg: "PBES2-HS512+A256KW",
    envelope: jose("PBES2-HS512+A256KW", new TextEncoder().encode("correct horse battery staple")),
  },
];

const nowSeconds = () => Math.floor(Date.now() / 1000);
const bytes = (value: unknown) => new TextEncoder().encode(canonicalize(value));

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail("expected a rejection"),
    (error: unknown) => error,
  );
}

describe.each(systemBackends())("breach drill (h): refused JWE algorithms and BIN ranges [%s]", (backend) => {
  let net: BreachNetwork;
  let proxy: RecordingProxy;
  let sampo: IssuerCertificate;
  let kstarCertificate: string;

  beforeAll(async () => {
    net = await openBreachNetwork(backend);
    proxy = await startRecordingProxy(net.payUrl);
    const listing = await net.connector.listIssuers();
    sampo = await verifyIssuerCertificate(
      listing.find((i) => i.issuerId === "sampo")!.certificate,
      TEST_NETWORK_ROOTS,
      nowSeconds(),
    );
    kstarCertificate = listing.find((i) => i.issuerId === "kstar")!.certificate;
  });
  afterAll(async () => {
    await proxy?.close();
    await net?.close();
  });

  /** The payer's device key, as the test planted it (the wallet holds it non-extractable). */
  async function deviceKeyOf(
    payer: BreachPayer,
  ): Promise<{ privateKey: CryptoKey; kid: string; publicJwk: { kty: "EC"; crv: "P-256"; x: string; y: string } }> {
    const { kid, publicJwk } = await payer.wallet.ensureDeviceKey();
    const privateKey = (await importJWK({ ...publicJwk, d: payer.deviceKeyD }, "ES256")) as CryptoKey;
    return { privateKey, kid, publicJwk };
  }

  async function issuerPost(path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(`${net.issuerUrl}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${net.acquirerSecret}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  it("refuses an enrollment JWE in RSA1_5, dir or PBES2 at the pay server and at the issuer", async () => {
    const payer = await net.newPayer("Kim Minji", { withPin: false });
    const device = await deviceKeyOf(payer);
    const card = CARDS.sampoLocal;
    const payload = () =>
      bytes({ pan: card.pan, expiry: card.expiry, cvc: card.cvc, deviceKey: device.publicJwk, iat: nowSeconds() });
    const header = { typ: JOSE_TYPES.enrollment, kid: sampo.kid };
    // The header check comes before the device's word: any statement will do here.
    const deviceSignature = await signStatement(device.privateKey, device.kid, {
      purpose: "enroll-card",
      payerId: payer.payerId,
      issuerId: "sampo",
    });
    const enrollCalls = () => net.connector.calls.filter((c) => c.method === "enroll").length;

    for (const { alg, envelope } of REFUSED_ENVELOPES) {
      const enrollment = await envelope(payload(), header);
      const calls = enrollCalls();
      const atPay = await rejection(
        payer.client.cards.startEnrollment({ issuerId: "sampo", enrollment, deviceSignature }),
      );
      expect(isPayApiError(atPay, "jose_algorithm_refused"), `${alg}: ${String(atPay)}`).toBe(true);
      expect(enrollCalls(), alg).toBe(calls);

      const atIssuer = await issuerPost("/issuers/sampo/enrollments", { enrollment, payerRef: `direct-${alg}` });
      expect([atIssuer.status, (atIssuer.body["error"] as { code?: string } | undefined)?.code], alg).toEqual([
        422,
        "enrollment_refused",
      ]);
    }

    // The same content in the accepted algorithm is taken by both: the refusals were the algorithms' doing.
    const accepted = await encryptTo(payload(), { ...sampo.jwk }, header);
    // (A statement names the JWE it comes with, and is good once: this one is signed for it, with a fresh nonce.)
    const acceptedSignature = await signStatement(device.privateKey, device.kid, {
      purpose: "enroll-card",
      payerId: payer.payerId,
      issuerId: "sampo",
      enrollmentHash: createHash("sha256").update(accepted).digest("base64url"),
      nonce: await payer.client.devices.statementNonce(),
    });
    expect(
      await payer.client.cards.startEnrollment({
        issuerId: "sampo",
        enrollment: accepted,
        deviceSignature: acceptedSignature,
      }),
    ).toMatchObject({ object: "card_enrollment", status: "verification_required" });
    expect(
      (
        await issuerPost("/issuers/sampo/enrollments", {
          enrollment: await encryptTo(payload(), { ...sampo.jwk }, header),
          payerRef: "direct-accepted",
        })
      ).status,
    ).toBe(201);
  });

  it("refuses a payment JWE in RSA1_5, dir or PBES2 at the pay server's authorize route and at the issuer", async () => {
    // The wallet's own requests, with the issuer JWE swapped on the way out for one of the refused algorithms.
    let terms: ApprovalTerms | undefined;
    let approvalId: string | undefined;
    let genuine: string | undefined;
    let swapIn: ((terms: ApprovalTerms) => Promise<string>) | undefined;
    const swapping: typeof fetch = async (input, init) => {
      const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
      if (swapIn && terms && init?.method === "POST" && url.endsWith("/authorize")) {
        genuine = (JSON.parse(String(init.body)) as { payment: string }).payment;
        return fetch(input, { ...init, body: JSON.stringify({ payment: await swapIn(terms) }) });
      }
      const response = await fetch(input, init);
      if (url.includes("/approval-challenges") && response.ok) {
        const answer = (await response.clone().json()) as { id: string; terms?: ApprovalTerms };
        if (answer.terms) terms = answer.terms;
        else approvalId = answer.id;
      }
      return response;
    };
    const payer = await net.newPayer("Choi Yuna", { fetch: swapping });
    const card: Card = await net.enroll(payer, CARDS.sampo);
    const device = await deviceKeyOf(payer);
    const signedPayment = async (t: ApprovalTerms) =>
      signWith(bytes({ terms: t, card: { pan: CARDS.sampo.pan, expiry: CARDS.sampo.expiry } }), device.privateKey, {
        typ: JOSE_TYPES.payment,
        kid: device.kid,
      });
    const header = { typ: JOSE_TYPES.paymentEnvelope, kid: sampo.kid };
    const authorizeCalls = () => net.connector.calls.filter((c) => c.method === "authorize").length;

    for (const { alg, envelope } of REFUSED_ENVELOPES) {
      const paymentId = await net.newPayment(10000);
      swapIn = async (t) => envelope(new TextEncoder().encode(await signedPayment(t)), header);
      const calls = authorizeCalls();
      const refused = await rejection(
        payer.wallet.approvePayment(paymentId, { cardId: card.id, pin: PIN, confirm: async () => true }),
      );
      swapIn = undefined;
      expect(isPayApiError(refused, "jose_algorithm_refused"), `${alg}: ${String(refused)}`).toBe(true);
      expect(authorizeCalls(), alg).toBe(calls);

      // Straight to the issuer, with everything else right (under an id of its own: the issuer keeps the first
      // decision for a payment id, and the payment above must stay open): declined as a bad envelope, nothing held.
      const direct = { ...terms!, paymentId: `${terms!.paymentId}_direct` };
      const directAnswer = await issuerPost("/issuers/sampo/authorizations", {
        paymentId: direct.paymentId,
        merchantId: terms!.merchantId,
        merchantName: terms!.merchantName,
        amount: terms!.amount,
        currency: terms!.currency,
        captureMethod: terms!.captureMethod,
        cardRef: terms!.cardRef,
        payment: await envelope(new TextEncoder().encode(await signedPayment(direct)), header),
        authentication: { method: "pin", statement: "not.a.statement" },
      });
      expect([directAnswer.status, directAnswer.body["decision"], directAnswer.body["declineCode"]], alg).toEqual([
        200,
        "declined",
        "bad_signature",
      ]);
      expect((await net.backofficeCard("sampo", card.cardRef)).holds, alg).toEqual([]);
    }

    // The last refused approval, sent on with the wallet's own JWE: authorized. The refusals were the algorithms' doing.
    expect(await payer.client.payments.authorize(approvalId!, genuine!)).toMatchObject({
      id: terms!.paymentId,
      status: "authorized",
    });
  });

  it("refuses to enroll or pay with a genuine certificate whose BIN ranges do not cover the card", async () => {
    const payer = await net.newPayer("Jung Hana", { baseUrl: proxy.url });
    const card = await net.enroll(payer, CARDS.sampoMaster);
    // Every listing answers KStar's real certificate (root-signed, valid) in Sampo's place: it covers 4222…, not 5111….
    proxy.setRewrite((exchange) => {
      if (exchange.url !== "/v1/payer/issuers" || exchange.status !== 200) return undefined;
      const body = JSON.parse(exchange.responseBody) as { data: Array<{ issuerId: string; certificate: string }> };
      return JSON.stringify({
        ...body,
        data: body.data.map((i) => (i.issuerId === "sampo" ? { ...i, certificate: kstarCertificate } : i)),
      });
    });
    const mark = proxy.exchanges.length;
    const issuerCalls = net.connector.calls.length;
    try {
      const enrolling = await rejection(
        payer.wallet.startCardEnrollment({
          pan: CARDS.sampoLocal.pan,
          expiry: CARDS.sampoLocal.expiry,
          cvc: CARDS.sampoLocal.cvc,
        }),
      );
      expect(isWalletError(enrolling, "issuer_not_found"), String(enrolling)).toBe(true);
      const paymentId = await net.newPayment(12000);
      const paying = await rejection(
        payer.wallet.approvePayment(paymentId, { cardId: card.id, pin: PIN, confirm: async () => true }),
      );
      expect(isWalletError(paying, "issuer_not_trusted"), String(paying)).toBe(true);
      expect(await net.issuerBooks("sampo", paymentId)).toBeNull();
    } finally {
      proxy.setRewrite(undefined);
    }
    expect(
      proxy.exchanges
        .slice(mark)
        .filter(
          (e) => e.method === "POST" && /\/v1\/payer\/(cards\/enrollments|approvals\/[^/]+\/authorize)/.test(e.url),
        ),
    ).toEqual([]);
    expect(net.connector.calls.slice(issuerCalls)).toEqual([]);
  });
});
