/**
 * The device's card cryptography against the test network's real fixtures: the issuers' certificates as the
 * network roots signed them, and (standing in for the issuer, to read what only it can read) their private keys.
 */
import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { compactDecrypt, compactVerify, exportJWK, generateKeyPair, importJWK, type JWK } from "jose";
import { decryptFrom, encryptTo, signIssuerCertificate } from "@mpay/crypto";
import { JOSE_TYPES, type ApprovalTerms, type IssuerCertificate } from "@mpay/protocol";
import {
  certifiedIssuer,
  certifiedIssuerFor,
  checkCardDetails,
  enrollmentJwe,
  openRelease,
  openWithShares,
  parseCardRecord,
  paymentJwe,
  sealNewCard,
} from "./card-crypto.ts";
import { TEST_NETWORK_ROOTS } from "@mpay/testing/network-roots";

const FIXTURES = new URL("../../../services/issuer/fixtures/", import.meta.url);
const now = Math.floor(Date.now() / 1000);
const listing = async (issuerId: string) => ({
  issuerId,
  certificate: (await readFile(new URL(`issuers/${issuerId}/certificate.jws`, FIXTURES), "utf8")).trim(),
});
const issuerKey = async (issuerId: string) =>
  importJWK(
    JSON.parse(await readFile(new URL(`issuers/${issuerId}/encryption-key.private.jwk.json`, FIXTURES), "utf8")) as JWK,
    "ECDH-ES+A256KW",
  );
const SAMPO_CARD = { pan: "4111 0000 0000 0016", expiry: "12/31", cvc: "806", holderName: "KIM MINJI" };

describe("the wallet's card cryptography", async () => {
  const listings = await Promise.all(["sampo", "kstar", "handae"].map(listing));
  const device = await generateKeyPair("ES256");
  const deviceJwk = (({ kty, crv, x, y }) => ({ kty: "EC" as const, crv: "P-256" as const, x: x!, y: y! }))(
    await exportJWK(device.publicKey),
  );

  it("picks the issuer whose certified BIN ranges cover the card, and only a certified one", async () => {
    const card = checkCardDetails(SAMPO_CARD);
    expect(card.pan).toBe("4111000000000016");
    expect((await certifiedIssuerFor(card.pan, listings, TEST_NETWORK_ROOTS, now)).issuerId).toBe("sampo");
    expect((await certifiedIssuerFor("4333000000000018", listings, TEST_NETWORK_ROOTS, now)).issuerId).toBe("handae"); // root B
    await expect(certifiedIssuerFor("4000000000000002", listings, TEST_NETWORK_ROOTS, now)).rejects.toMatchObject({
      code: "issuer_not_found",
    });
    // A substitute key for sampo, vouched for by a root the wallet does not ship (what a malicious pay server would list).
    const rogueRoot = await generateKeyPair("ES256");
    const rogueIssuer = await generateKeyPair("ECDH-ES+A256KW", { crv: "P-256", extractable: true });
    const { x, y } = await exportJWK(rogueIssuer.publicKey);
    const forged: IssuerCertificate = {
      issuerId: "sampo",
      name: "Sampo Card",
      binRanges: [{ from: "411100", to: "411199" }],
      jwk: { kty: "EC", crv: "P-256", x: x!, y: y! },
      kid: "rogue",
      nbf: now - 60,
      exp: now + 3600,
    };
    const substitute = [
      {
        issuerId: "sampo",
        certificate: await signIssuerCertificate(forged, rogueRoot.privateKey, TEST_NETWORK_ROOTS[0]!.kid),
      },
    ];
    await expect(certifiedIssuerFor(card.pan, substitute, TEST_NETWORK_ROOTS, now)).rejects.toMatchObject({
      code: "issuer_not_trusted",
    });
    await expect(certifiedIssuer("sampo", substitute, TEST_NETWORK_ROOTS, now, card.pan)).rejects.toMatchObject({
      code: "issuer_not_trusted",
    });
    // A genuine certificate that does not cover the card's BIN.
    await expect(certifiedIssuer("kstar", listings, TEST_NETWORK_ROOTS, now, card.pan)).rejects.toMatchObject({
      code: "issuer_not_trusted",
    });
  });

  it("encrypts the enrollment so that only the issuer's certified key opens it", async () => {
    const card = checkCardDetails(SAMPO_CARD);
    const certificate = await certifiedIssuerFor(card.pan, listings, TEST_NETWORK_ROOTS, now);
    const jwe = await enrollmentJwe(certificate, card, deviceJwk, now);
    expect(jwe).not.toContain("4111");
    const { plaintext } = await decryptFrom(jwe, await issuerKey("sampo"), JOSE_TYPES.enrollment);
    expect(JSON.parse(new TextDecoder().decode(plaintext))).toEqual({
      pan: card.pan,
      expiry: "12/31",
      cvc: "806",
      deviceKey: deviceJwk,
      iat: now,
    });
    await expect(decryptFrom(jwe, await issuerKey("kstar"), JOSE_TYPES.enrollment)).rejects.toMatchObject({
      code: "jose_invalid",
    });
  });

  it("seals, releases, combines and signs-then-encrypts a payment the issuer can verify; the server's share alone opens nothing", async () => {
    const card = checkCardDetails(SAMPO_CARD);
    const binding = { cardId: "card_01JXXXXXXXXXXXXXXXXXXXXXXX", payerId: "usr_1", deviceId: "dev_1", version: 1 };
    const sealed = await sealNewCard(binding, card, { name: "Kim Minji" });
    expect(sealed.sealedCard).not.toContain("4111");
    const kSrv = new Uint8Array(Buffer.from(sealed.kSrv, "base64url"));
    // The pay server's release, as vault/release.ts frames it: K_srv, then the JSON of the rest.
    const oneTime = await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, false, ["deriveBits"]);
    const rest = new TextEncoder().encode(
      JSON.stringify({
        cardId: binding.cardId,
        sealedCard: sealed.sealedCard,
        sealedProfile: sealed.sealedProfile,
        recordVersion: 1,
      }),
    );
    const release = await encryptTo(new Uint8Array([...kSrv, ...rest]), oneTime.publicKey, { typ: JOSE_TYPES.release });
    const opened = await openRelease(release, oneTime.privateKey);
    expect(opened.kSrv).toEqual(kSrv);
    // K_srv with a wrong K_dev (all the server has) opens nothing.
    await expect(
      openWithShares(new Uint8Array(32), opened.kSrv, { ...binding, purpose: "card" }, sealed.sealedCard),
    ).rejects.toMatchObject({ code: "card_record_invalid" });
    const cardData = parseCardRecord(
      await openWithShares(sealed.kDev, opened.kSrv, { ...binding, purpose: "card" }, sealed.sealedCard),
    );
    expect(cardData).toEqual({ pan: card.pan, expiry: "12/31" });

    const terms: ApprovalTerms = {
      aud: "sampo",
      cardRef: "cr_1",
      paymentId: "pay_1",
      merchantId: "mch_1",
      merchantName: "Shop",
      amount: 35000,
      currency: "KRW",
      captureMethod: "manual",
      nonce: "n".repeat(22),
      iat: now,
      exp: now + 300,
    };
    const certificate = await certifiedIssuer("sampo", listings, TEST_NETWORK_ROOTS, now, cardData.pan);
    const jwe = await paymentJwe(certificate, device.privateKey, "device-kid", terms, cardData);
    const { plaintext, protectedHeader } = await compactDecrypt(jwe, await issuerKey("sampo"));
    expect(protectedHeader).toMatchObject({
      alg: "ECDH-ES+A256KW",
      enc: "A256GCM",
      typ: JOSE_TYPES.paymentEnvelope,
      kid: certificate.kid,
    });
    const inner = await compactVerify(new TextDecoder().decode(plaintext), device.publicKey);
    expect(inner.protectedHeader).toMatchObject({ alg: "ES256", typ: JOSE_TYPES.payment, kid: "device-kid" });
    expect(JSON.parse(new TextDecoder().decode(inner.payload))).toEqual({ terms, card: cardData });
  });

  it("refuses card details that cannot be a card, without repeating them", () => {
    for (const bad of [
      { ...SAMPO_CARD, pan: "4111000000000017" },
      { ...SAMPO_CARD, expiry: "13/31" },
      { ...SAMPO_CARD, cvc: "12" },
    ]) {
      expect(() => checkCardDetails(bad)).toThrow(expect.objectContaining({ code: "card_details_invalid" }));
      try {
        checkCardDetails(bad);
      } catch (error) {
        expect(String((error as Error).message)).not.toContain(bad.pan.replace(/\s/g, ""));
      }
    }
  });
});
