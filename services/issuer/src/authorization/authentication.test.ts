/**
 * The authentication result of a device payment: the pay server's PIN statement and passkey assertions, missing,
 * forged or for other terms; the limits per method; and an unbound device, whose signatures count for nothing.
 */
import { calculateJwkThumbprint, createLocalJWKSet, exportJWK, generateKeyPair } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signWith } from "@mpay/crypto";
import { JOSE_TYPES, type EnrolledCard } from "@mpay/protocol";
import { testCard } from "../cards/test-cards.ts";
import { TestDevice } from "../testing/device.ts";
import { authorize, enroll, paymentRequest, startEnrollment, termsFor } from "../testing/flows.ts";
import { openTestHost, PASSKEY_ORIGIN, PASSKEY_RP_ID, testBackends, type TestHost } from "../testing/host.ts";
import { TestPasskey } from "../testing/passkey.ts";
import { PaymentAuthenticator } from "./authentication.ts";
import { termsHashOf } from "./open-payment.ts";

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
    mastercard = await enroll(host, "sampo", device, testCard("sampo", "mastercard"), { passkeys: [{ id: passkey.id, publicKey: passkey.publicKey }] });
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
    const claims = { iss: "mpay-pay", aud: "sampo", method: "pin", paymentId: t1.paymentId, challengeId: "chl_x", termsHash: termsHashOf(t1), deviceKid: device.kid, iat: host.clock.seconds(), exp: host.clock.seconds() + 60 };
    const forged = await signWith(new TextEncoder().encode(JSON.stringify(claims)), forger.privateKey, { typ: JOSE_TYPES.pinStatement, kid: "not-the-pay-server" });
    expect(await declineOf(await paymentRequest(host, device, card, t1, { authentication: { method: "pin", statement: forged } }))).toMatchObject({ declineCode: "authentication_failed" });
    const junk = await paymentRequest(host, device, card, terms(), { authentication: { method: "pin", statement: "not-a-jws" } });
    expect(await declineOf(junk)).toMatchObject({ declineCode: "authentication_failed" });

    const variants = [
      (t: ReturnType<typeof terms>) => ({ aud: "kstar", paymentId: t.paymentId, termsHash: termsHashOf(t), deviceKid: device.kid }),
      (t: ReturnType<typeof terms>) => ({ aud: "sampo", paymentId: "pay_other", termsHash: termsHashOf(t), deviceKid: device.kid }),
      (t: ReturnType<typeof terms>) => ({ aud: "sampo", paymentId: t.paymentId, termsHash: termsHashOf({ ...t, amount: 1 }), deviceKid: device.kid }),
      (t: ReturnType<typeof terms>) => ({ aud: "sampo", paymentId: t.paymentId, termsHash: termsHashOf(t), deviceKid: "x".repeat(43) }),
      (t: ReturnType<typeof terms>) => ({ aud: "sampo", paymentId: t.paymentId, termsHash: termsHashOf(t), deviceKid: device.kid, iat: host.clock.seconds() - 600 }),
    ];
    for (const variant of variants) {
      const t = terms();
      const statement = await host.pinStatement(variant(t));
      expect(await declineOf(await paymentRequest(host, device, card, t, { authentication: { method: "pin", statement } }))).toMatchObject({ declineCode: "authentication_failed" });
    }
  });

  it("approves with a passkey assertion over the terms' hash, and declines one without user verification", async () => {
    const good = termsFor(host, "sampo", visa.cardRef);
    const assertion = passkey.assert(termsHashOf(good));
    expect(await declineOf(await paymentRequest(host, device, card, good, { authentication: { method: "passkey", assertion } }))).toMatchObject({ decision: "approved" });

    const noUv = termsFor(host, "sampo", visa.cardRef);
    const unverified = passkey.assert(termsHashOf(noUv), { userVerified: false });
    expect(await declineOf(await paymentRequest(host, device, card, noUv, { authentication: { method: "passkey", assertion: unverified } }))).toMatchObject({ declineCode: "authentication_failed" });

    const otherTerms = termsFor(host, "sampo", visa.cardRef);
    const elsewhere = passkey.assert(termsHashOf({ ...otherTerms, amount: 1 }));
    expect(await declineOf(await paymentRequest(host, device, card, otherTerms, { authentication: { method: "passkey", assertion: elsewhere } }))).toMatchObject({ declineCode: "authentication_failed" });

    const phishing = termsFor(host, "sampo", visa.cardRef);
    const wrongOrigin = passkey.assert(termsHashOf(phishing), { origin: "https://evil.example" });
    expect(await declineOf(await paymentRequest(host, device, card, phishing, { authentication: { method: "passkey", assertion: wrongOrigin } }))).toMatchObject({ declineCode: "authentication_failed" });

    const stranger = new TestPasskey(PASSKEY_RP_ID, PASSKEY_ORIGIN);
    const unbound = termsFor(host, "sampo", visa.cardRef);
    expect(await declineOf(await paymentRequest(host, device, card, unbound, { authentication: { method: "passkey", assertion: stranger.assert(termsHashOf(unbound)) } }))).toMatchObject({
      declineCode: "authentication_failed",
    });
  });

  it("applies its limit per method: PIN up to 2,000,000 KRW, passkey up to 10,000,000 KRW", async () => {
    const mc = testCard("sampo", "mastercard");
    const overPin = termsFor(host, "sampo", mastercard.cardRef, { amount: 2_000_001 });
    expect(await declineOf(await paymentRequest(host, device, mc, overPin))).toMatchObject({ declineCode: "authentication_failed" });
    const atPin = termsFor(host, "sampo", mastercard.cardRef, { amount: 2_000_000 });
    expect(await declineOf(await paymentRequest(host, device, mc, atPin))).toMatchObject({ decision: "approved" });
    const withPasskey = termsFor(host, "sampo", mastercard.cardRef, { amount: 2_000_001 });
    expect(await declineOf(await paymentRequest(host, device, mc, withPasskey, { authentication: { method: "passkey", assertion: passkey.assert(termsHashOf(withPasskey)) } }))).toMatchObject({
      decision: "approved",
    });
    const overPasskey = termsFor(host, "sampo", mastercard.cardRef, { amount: 10_000_001 });
    expect(await declineOf(await paymentRequest(host, device, mc, overPasskey, { authentication: { method: "passkey", assertion: passkey.assert(termsHashOf(overPasskey)) } }))).toMatchObject({
      declineCode: "authentication_failed",
    });
  });

  it("answers 503 and records nothing when the pay server's keys cannot be fetched", async () => {
    const issuer = host.server.host.get("sampo");
    const down = new PaymentAuthenticator(issuer, { passkeys: { rpId: PASSKEY_RP_ID, origins: [PASSKEY_ORIGIN] }, pinStatementIssuer: undefined }, async () => {
      throw new TypeError("fetch failed");
    });
    const t = termsFor(host, "sampo", visa.cardRef);
    const statement = await host.pinStatement({ aud: "sampo", paymentId: t.paymentId, termsHash: termsHashOf(t), deviceKid: device.kid });
    await expect(down.check({ method: "pin", statement }, { paymentId: t.paymentId, cardRef: visa.cardRef, deviceKid: device.kid, termsHash: termsHashOf(t) })).rejects.toMatchObject({
      code: "temporarily_unavailable",
    });
    // A key set that answers but lacks the key: a forged statement, declined.
    const other = await generateKeyPair("ES256");
    const jwk = await exportJWK(other.publicKey);
    const elsewhere = new PaymentAuthenticator(issuer, { passkeys: { rpId: PASSKEY_RP_ID, origins: [PASSKEY_ORIGIN] }, pinStatementIssuer: undefined }, createLocalJWKSet({ keys: [{ ...jwk, kid: await calculateJwkThumbprint(jwk) }] }));
    expect(await elsewhere.check({ method: "pin", statement }, { paymentId: t.paymentId, cardRef: visa.cardRef, deviceKid: device.kid, termsHash: termsHashOf(t) })).toMatchObject({ ok: false });
  });

  it("unbinds a device: acknowledged, then nothing it signs is accepted and it cannot enroll again", async () => {
    const lost = await TestDevice.create();
    const spare = await TestDevice.create();
    await enroll(host, "sampo", lost, card);
    await enroll(host, "sampo", spare, card);
    const unbound = await host.acquirer("POST", `/issuers/sampo/devices/${lost.kid}/unbind`, {});
    expect(unbound.status).toBe(200);
    expect(unbound.body).toEqual({ unbound: true, bindings: 1 });
    expect((await host.acquirer("POST", `/issuers/sampo/devices/${lost.kid}/unbind`, {})).body).toEqual({ unbound: true, bindings: 0 });
    expect((await host.acquirer("POST", `/issuers/sampo/devices/${"A".repeat(43)}/unbind`, {})).body).toMatchObject({ error: { code: "device_not_bound" } });

    const terms = termsFor(host, "sampo", visa.cardRef);
    expect(await declineOf(await paymentRequest(host, lost, card, terms))).toMatchObject({ declineCode: "bad_signature" });
    const again = await startEnrollment(host, "sampo", lost, card, { payerRef: "usr_lost" });
    expect(again.body).toMatchObject({ error: { code: "enrollment_refused" } });
    // The other device of the same card still pays.
    const spareTerms = termsFor(host, "sampo", visa.cardRef);
    expect(await declineOf(await paymentRequest(host, spare, card, spareTerms))).toMatchObject({ decision: "approved" });
  });
});
