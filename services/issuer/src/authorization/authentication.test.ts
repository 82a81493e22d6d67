/**
 * The authentication result of a device payment: the pay server's PIN statement and passkey assertions, missing,
 * forged or for other terms; the limits per method; and an unbound device, whose signatures count for nothing.
 */
import { calculateJwkThumbprint, CompactSign, exportJWK, generateKeyPair } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signStatementKeyCertificate, signWith } from "@mpay/crypto";
import { JOSE_TYPES, type EcPublicJwk, type EnrolledCard, type StatementKeyCertificate } from "@mpay/protocol";
import { testCard } from "../cards/test-cards.ts";
import { TestDevice } from "../testing/device.ts";
import { testRootSigner } from "../testing/fixtures.ts";
import { authorize, enroll, paymentRequest, startEnrollment, termsFor } from "../testing/flows.ts";
import { openTestHost, PASSKEY_ORIGIN, PASSKEY_RP_ID, testBackends, type TestHost } from "../testing/host.ts";
import { TestPasskey } from "../testing/passkey.ts";
import { termsHashOf } from "./open-payment.ts";

async function newKey(): Promise<{ privateKey: CryptoKey; jwk: EcPublicJwk; kid: string }> {
  const { privateKey, publicKey } = await generateKeyPair("ES256");
  const { x, y } = await exportJWK(publicKey);
  const jwk = { kty: "EC" as const, crv: "P-256" as const, x: x!, y: y! };
  return { privateKey: privateKey as CryptoKey, jwk, kid: await calculateJwkThumbprint(jwk) };
}

/** A PIN statement's JWS over `claims` by `key`, with `header` members on top of alg, typ and the key's kid. */
function sign(
  claims: Uint8Array,
  key: { privateKey: CryptoKey; kid: string },
  header: Record<string, unknown>,
): Promise<string> {
  return new CompactSign(claims)
    .setProtectedHeader({ alg: "ES256", typ: JOSE_TYPES.pinStatement, kid: key.kid, ...header })
    .sign(key.privateKey);
}

const certifiedKid = (certificate: string) =>
  String(JSON.parse(Buffer.from(certificate.split(".")[1]!, "base64url").toString("utf8")).kid);

describe.each(testBackends())("payment authentication [%s]", (backend) => {
  let host: TestHost;
  let device: TestDevice;
  let passkey: TestPasskey;
  let visa: EnrolledCard;
  let mastercard: EnrolledCard;
  const card = testCard("sampo", "approves");

  beforeAll(async () => {
    host = await openTestHost(backend);
    device = await TestDevice.create();
    passkey = new TestPasskey(PASSKEY_RP_ID, PASSKEY_ORIGIN);
    visa = await enroll(host, "sampo", device, card, { passkeys: [{ id: passkey.id, publicKey: passkey.publicKey }] });
    mastercard = await enroll(host, "sampo", device, testCard("sampo", "mastercard"), {
      passkeys: [{ id: passkey.id, publicKey: passkey.publicKey }],
    });
  });
  afterAll(async () => {
    await host?.close();
  });

  const declineOf = async (request: Record<string, unknown>) => (await authorize(host, "sampo", request)).body;

  it("declines a payment whose PIN statement is missing, forged, or made for something else", async () => {
    const terms = () => termsFor(host, "sampo", visa.cardRef);
    const missing = await paymentRequest(host, device, card, terms());
    delete missing["authentication"];
    expect(await declineOf(missing)).toMatchObject({ decision: "declined", declineCode: "authentication_failed" });

    const forger = await generateKeyPair("ES256");
    const t1 = terms();
    const claims = {
      iss: "mpay-pay",
      aud: "sampo",
      method: "pin",
      paymentId: t1.paymentId,
      challengeId: "chl_x",
      termsHash: termsHashOf(t1),
      deviceKid: device.kid,
      iat: host.clock.seconds(),
      exp: host.clock.seconds() + 60,
    };
    const forged = await signWith(new TextEncoder().encode(JSON.stringify(claims)), forger.privateKey, {
      typ: JOSE_TYPES.pinStatement,
      kid: "not-the-pay-server",
    });
    expect(
      await declineOf(
        await paymentRequest(host, device, card, t1, { authentication: { method: "pin", statement: forged } }),
      ),
    ).toMatchObject({ declineCode: "authentication_failed" });
    const junk = await paymentRequest(host, device, card, terms(), {
      authentication: { method: "pin", statement: "not-a-jws" },
    });
    expect(await declineOf(junk)).toMatchObject({ declineCode: "authentication_failed" });

    const variants = [
      (t: ReturnType<typeof terms>) => ({
        aud: "kstar",
        paymentId: t.paymentId,
        termsHash: termsHashOf(t),
        deviceKid: device.kid,
      }),
      (t: ReturnType<typeof terms>) => ({
        aud: "sampo",
        paymentId: "pay_other",
        termsHash: termsHashOf(t),
        deviceKid: device.kid,
      }),
      (t: ReturnType<typeof terms>) => ({
        aud: "sampo",
        paymentId: t.paymentId,
        termsHash: termsHashOf({ ...t, amount: 1 }),
        deviceKid: device.kid,
      }),
      (t: ReturnType<typeof terms>) => ({
        aud: "sampo",
        paymentId: t.paymentId,
        termsHash: termsHashOf(t),
        deviceKid: "x".repeat(43),
      }),
      (t: ReturnType<typeof terms>) => ({
        aud: "sampo",
        paymentId: t.paymentId,
        termsHash: termsHashOf(t),
        deviceKid: device.kid,
        iat: host.clock.seconds() - 600,
      }),
    ];
    for (const variant of variants) {
      const t = terms();
      const statement = await host.pinStatement(variant(t));
      expect(
        await declineOf(await paymentRequest(host, device, card, t, { authentication: { method: "pin", statement } })),
      ).toMatchObject({ declineCode: "authentication_failed" });
    }
  });

  it("approves with a passkey assertion over the terms' hash, and declines one without user verification", async () => {
    const good = termsFor(host, "sampo", visa.cardRef);
    const assertion = passkey.assert(termsHashOf(good));
    expect(
      await declineOf(
        await paymentRequest(host, device, card, good, { authentication: { method: "passkey", assertion } }),
      ),
    ).toMatchObject({ decision: "approved" });

    const noUv = termsFor(host, "sampo", visa.cardRef);
    const unverified = passkey.assert(termsHashOf(noUv), { userVerified: false });
    expect(
      await declineOf(
        await paymentRequest(host, device, card, noUv, {
          authentication: { method: "passkey", assertion: unverified },
        }),
      ),
    ).toMatchObject({ declineCode: "authentication_failed" });

    const otherTerms = termsFor(host, "sampo", visa.cardRef);
    const elsewhere = passkey.assert(termsHashOf({ ...otherTerms, amount: 1 }));
    expect(
      await declineOf(
        await paymentRequest(host, device, card, otherTerms, {
          authentication: { method: "passkey", assertion: elsewhere },
        }),
      ),
    ).toMatchObject({ declineCode: "authentication_failed" });

    const phishing = termsFor(host, "sampo", visa.cardRef);
    const wrongOrigin = passkey.assert(termsHashOf(phishing), { origin: "https://evil.example" });
    expect(
      await declineOf(
        await paymentRequest(host, device, card, phishing, {
          authentication: { method: "passkey", assertion: wrongOrigin },
        }),
      ),
    ).toMatchObject({ declineCode: "authentication_failed" });

    const stranger = new TestPasskey(PASSKEY_RP_ID, PASSKEY_ORIGIN);
    const unbound = termsFor(host, "sampo", visa.cardRef);
    expect(
      await declineOf(
        await paymentRequest(host, device, card, unbound, {
          authentication: { method: "passkey", assertion: stranger.assert(termsHashOf(unbound)) },
        }),
      ),
    ).toMatchObject({
      declineCode: "authentication_failed",
    });
  });

  it("applies its limit per method: PIN up to 2,000,000 KRW, passkey up to 10,000,000 KRW", async () => {
    const mc = testCard("sampo", "mastercard");
    const overPin = termsFor(host, "sampo", mastercard.cardRef, { amount: 2_000_001 });
    expect(await declineOf(await paymentRequest(host, device, mc, overPin))).toMatchObject({
      declineCode: "authentication_failed",
    });
    const atPin = termsFor(host, "sampo", mastercard.cardRef, { amount: 2_000_000 });
    expect(await declineOf(await paymentRequest(host, device, mc, atPin))).toMatchObject({ decision: "approved" });
    const withPasskey = termsFor(host, "sampo", mastercard.cardRef, { amount: 2_000_001 });
    expect(
      await declineOf(
        await paymentRequest(host, device, mc, withPasskey, {
          authentication: { method: "passkey", assertion: passkey.assert(termsHashOf(withPasskey)) },
        }),
      ),
    ).toMatchObject({
      decision: "approved",
    });
    const overPasskey = termsFor(host, "sampo", mastercard.cardRef, { amount: 10_000_001 });
    expect(
      await declineOf(
        await paymentRequest(host, device, mc, overPasskey, {
          authentication: { method: "passkey", assertion: passkey.assert(termsHashOf(overPasskey)) },
        }),
      ),
    ).toMatchObject({
      declineCode: "authentication_failed",
    });
  });

  it("counts a PIN statement only under a key its certificate vouches for: a trusted root, this acquirer, valid now", async () => {
    const root = await testRootSigner();
    const rogueRoot = await newKey();
    const attacker = await newKey();
    const now = host.clock.seconds();
    const certify = (
      key: { jwk: EcPublicJwk; kid: string },
      signer: { kid: string; privateKey: CryptoKey },
      overrides: Partial<StatementKeyCertificate> = {},
    ) =>
      signStatementKeyCertificate(
        { acquirerId: "mpay", jwk: key.jwk, kid: key.kid, nbf: now - 60, exp: now + 3600, ...overrides },
        signer.privateKey,
        signer.kid,
      );
    const genuine = host.statementKeyCertificate;
    const cases: Array<[string, (claims: Uint8Array) => Promise<string>]> = [
      ["no certificate, the key in a JWKS somewhere", (claims) => sign(claims, attacker, {})],
      [
        "a certificate from a root this issuer does not trust",
        async (claims) => sign(claims, attacker, { cert: await certify(attacker, rogueRoot) }),
      ],
      [
        "a rogue root's certificate under the test root's kid",
        async (claims) =>
          sign(claims, attacker, {
            cert: await certify(attacker, { kid: root.kid, privateKey: rogueRoot.privateKey }),
          }),
      ],
      [
        "the trusted root's certificate for another acquirer",
        async (claims) =>
          sign(claims, attacker, { cert: await certify(attacker, root, { acquirerId: "other-acquirer" }) }),
      ],
      [
        "an expired certificate",
        async (claims) =>
          sign(claims, attacker, { cert: await certify(attacker, root, { nbf: now - 7200, exp: now - 1 }) }),
      ],
      [
        "the pay server's genuine certificate on the attacker's key",
        (claims) => sign(claims, attacker, { cert: genuine, kid: certifiedKid(genuine) }),
      ],
      [
        "the genuine certificate, and the attacker's key embedded as jwk",
        (claims) => sign(claims, attacker, { cert: genuine, kid: certifiedKid(genuine), jwk: { ...attacker.jwk } }),
      ],
      [
        "an issuer certificate in place of a statement-key certificate",
        (claims) => sign(claims, attacker, { cert: host.server.host.get("sampo").keys.certificateJws }),
      ],
    ];
    for (const [what, make] of cases) {
      const t = termsFor(host, "sampo", visa.cardRef);
      const claims = new TextEncoder().encode(
        JSON.stringify({
          iss: "mpay-pay",
          aud: "sampo",
          method: "pin",
          paymentId: t.paymentId,
          challengeId: "chl_x",
          termsHash: termsHashOf(t),
          deviceKid: device.kid,
          iat: now,
          exp: now + 60,
        }),
      );
      const answer = await declineOf(
        await paymentRequest(host, device, card, t, {
          authentication: { method: "pin", statement: await make(claims) },
        }),
      );
      expect(answer, what).toMatchObject({ decision: "declined", declineCode: "authentication_failed" });
    }

    // Two keys of the pay server side by side during a rollover, each under its own certificate: both count.
    const next = await newKey();
    const nextCertificate = await certify(next, root);
    for (const signed of [(claims: Uint8Array) => sign(claims, next, { cert: nextCertificate }), undefined]) {
      const t = termsFor(host, "sampo", visa.cardRef);
      const claims = new TextEncoder().encode(
        JSON.stringify({
          iss: "mpay-pay",
          aud: "sampo",
          method: "pin",
          paymentId: t.paymentId,
          challengeId: "chl_x",
          termsHash: termsHashOf(t),
          deviceKid: device.kid,
          iat: now,
          exp: now + 60,
        }),
      );
      const authentication = signed
        ? { authentication: { method: "pin" as const, statement: await signed(claims) } }
        : {};
      expect(await declineOf(await paymentRequest(host, device, card, t, authentication))).toMatchObject({
        decision: "approved",
      });
    }
  });

  it("unbinds a device: acknowledged, then nothing it signs is accepted and it cannot enroll again", async () => {
    const lost = await TestDevice.create();
    const spare = await TestDevice.create();
    await enroll(host, "sampo", lost, card);
    await enroll(host, "sampo", spare, card);
    const unbound = await host.acquirer("POST", `/issuers/sampo/devices/${lost.kid}/unbind`, {});
    expect(unbound.status).toBe(200);
    expect(unbound.body).toEqual({ unbound: true, bindings: 1 });
    expect((await host.acquirer("POST", `/issuers/sampo/devices/${lost.kid}/unbind`, {})).body).toEqual({
      unbound: true,
      bindings: 0,
    });
    expect((await host.acquirer("POST", `/issuers/sampo/devices/${"A".repeat(43)}/unbind`, {})).body).toMatchObject({
      error: { code: "device_not_bound" },
    });

    const terms = termsFor(host, "sampo", visa.cardRef);
    expect(await declineOf(await paymentRequest(host, lost, card, terms))).toMatchObject({
      declineCode: "bad_signature",
    });
    const again = await startEnrollment(host, "sampo", lost, card, { payerRef: "usr_lost" });
    expect(again.body).toMatchObject({ error: { code: "enrollment_refused" } });
    // The other device of the same card still pays.
    const spareTerms = termsFor(host, "sampo", visa.cardRef);
    expect(await declineOf(await paymentRequest(host, spare, card, spareTerms))).toMatchObject({
      decision: "approved",
    });
  });
});
