/**
 * What one payment's cryptography costs the synthetic device, on one core, two ways (bench/primitives.ts's
 * `measure`: CPU time of this process): with node:crypto as the bench's devices do it (bench/device-crypto.ts), and
 * with the wallet SDK's own jose/WebCrypto code that a phone runs. Per payment: sign the terms, MAC the challenge,
 * make the one-time release key, open the release, open the card record with both shares, check the issuer's
 * certificate, sign the terms with the card and encrypt them to the issuer. OPAQUE's client (WASM, the same in both)
 * is left out. The in-run figure (the load generators' CPU per payment) adds HTTP, JSON, OPAQUE and the loop.
 */
import { KeyObject } from "node:crypto";
import { combineShares, encryptTo, signIssuerCertificate, type NetworkRoot } from "@mpay/crypto";
import { encryptCompact } from "@mpay/crypto/node";
import { JOSE_TYPES, type ApprovalTerms, type IssuerCertificate } from "@mpay/protocol";
import {
  certifiedIssuer,
  deviceKeyId,
  exportDevicePublicJwk,
  openRelease,
  openWithShares,
  parseCardRecord,
  paymentJwe,
  pinChallengeMac,
  sealNewCard,
  signTerms,
  wipe,
} from "@mpay/wallet";
import canonicalize from "canonicalize";
import { exportJWK, generateKeyPair } from "jose";
import {
  CertificateVerifier,
  es256Jws,
  jweDecrypt,
  jweEncrypt,
  oneTimeKey,
  openRecordFast,
  pinChallengeMacFast,
  signTermsFast,
} from "./device-crypto.ts";
import { measure, type PrimitiveRate } from "./primitives.ts";

export interface DevicePrimitiveCosts {
  /** One payment's device cryptography with node:crypto (the bench's devices). */
  nodeCrypto: PrimitiveRate;
  /** The same with the wallet SDK's jose/WebCrypto code. */
  sdk: PrimitiveRate;
  secondsEach: number;
}

export async function measureDevicePrimitives(seconds = 1.5): Promise<DevicePrimitiveCosts> {
  const samples = 16;
  const now = Math.floor(Date.now() / 1000);
  const terms: ApprovalTerms = {
    aud: "kstar",
    cardRef: "card_bench",
    paymentId: "pay_bench",
    merchantId: "mer_bench",
    merchantName: "Bench Mall",
    amount: 1500,
    currency: "KRW",
    captureMethod: "manual",
    nonce: "AAAAAAAAAAAAAAAAAAAAAA",
    iat: now,
    exp: now + 290,
  };
  const sessionKey = new Uint8Array(64).fill(3);
  const device = await generateKeyPair("ES256");
  const deviceKey = KeyObject.from(device.privateKey);
  const kid = await deviceKeyId(await exportDevicePublicJwk(device.publicKey));

  // A network root, and the issuer's certificate as the pay server lists it.
  const root = await generateKeyPair("ES256");
  const rootJwk = await exportJWK(root.publicKey);
  const roots: NetworkRoot[] = [
    { kid: "bench-root", name: "Bench", jwk: { kty: "EC", crv: "P-256", x: rootJwk.x!, y: rootJwk.y! } },
  ];
  const issuer = await generateKeyPair("ECDH-ES+A256KW", { crv: "P-256" });
  const issuerJwk = await exportJWK(issuer.publicKey);
  const certificate: IssuerCertificate = {
    issuerId: "kstar",
    name: "K Star",
    binRanges: [{ from: "411100", to: "411199" }],
    jwk: { kty: "EC", crv: "P-256", x: issuerJwk.x!, y: issuerJwk.y! },
    kid: "kstar-1",
    nbf: now - 60,
    exp: now + 3600,
  };
  const listings = [
    { issuerId: "kstar", certificate: await signIssuerCertificate(certificate, root.privateKey, "bench-root") },
  ];

  // The card's records, and releases to one-time keys (the pay server's work, made beforehand).
  const binding = { cardId: "card_bench", payerId: "payer_bench", deviceId: "device_bench", version: 1 };
  const sealed = await sealNewCard(binding, { pan: "4111000000000016", expiry: "12/31", cvc: "806" }, undefined);
  const kSrv = Buffer.from(sealed.kSrv, "base64url");
  const releasePlaintext = Buffer.concat([
    kSrv,
    Buffer.from(
      JSON.stringify({ cardId: binding.cardId, sealedCard: sealed.sealedCard, sealedProfile: null, recordVersion: 1 }),
    ),
  ]);
  // Each one-time key opens one release, as on a phone: compact-jose.ts keeps an ECDH context per private key, which
  // a key reused sample after sample would find ready and so hide its making (enough for a 1.5 s run at ~1 ms each).
  const oneTimeSamples = 2048;
  const nodeKeys = Array.from({ length: oneTimeSamples }, () => oneTimeKey());
  const nodeReleases = nodeKeys.map((k) => encryptCompact(releasePlaintext, k.publicJwk, { typ: JOSE_TYPES.release }));
  const sdkKeys = await Promise.all(
    Array.from({ length: samples }, () =>
      crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, false, ["deriveBits"]),
    ),
  );
  const sdkReleases = await Promise.all(
    sdkKeys.map(async (k) => {
      const { kty, crv, x, y } = await crypto.subtle.exportKey("jwk", k.publicKey);
      return encryptTo(releasePlaintext, { kty, crv, x, y }, { typ: JOSE_TYPES.release });
    }),
  );
  const verifier = new CertificateVerifier(roots);

  const nodeCrypto = await measure(seconds, (i) => {
    signTermsFast(deviceKey, kid, terms);
    pinChallengeMacFast(sessionKey, "chal_bench", terms);
    oneTimeKey();
    const released = jweDecrypt(
      nodeReleases[i % oneTimeSamples] as string,
      nodeKeys[i % oneTimeSamples]!.privateKey,
      JOSE_TYPES.release,
    );
    const payload = JSON.parse(released.subarray(32).toString("utf8")) as { sealedCard: string };
    const dek = combineShares(sealed.kDev, released.subarray(0, 32));
    const card = parseCardRecord(openRecordFast(dek, { ...binding, purpose: "card" }, payload.sealedCard));
    wipe(dek);
    const cert = verifier.verify(listings[0]!.certificate, Math.floor(Date.now() / 1000), card.pan);
    const jws = es256Jws(canonicalize({ terms, card }) as string, deviceKey, { typ: JOSE_TYPES.payment, kid });
    jweEncrypt(Buffer.from(jws), verifier.recipientKey(cert), { typ: JOSE_TYPES.paymentEnvelope, kid: cert.kid });
  });

  const sdk = await measure(seconds, async (i) => {
    await signTerms(device.privateKey, kid, terms);
    await pinChallengeMac(sessionKey, "chal_bench", terms);
    const oneTime = await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, false, ["deriveBits"]);
    await crypto.subtle.exportKey("jwk", oneTime.publicKey);
    const { kSrv: released, payload } = await openRelease(
      sdkReleases[i % samples] as string,
      sdkKeys[i % samples]!.privateKey,
    );
    const bytes = await openWithShares(sealed.kDev, released, { ...binding, purpose: "card" }, payload.sealedCard);
    const card = parseCardRecord(bytes);
    const cert = await certifiedIssuer("kstar", listings, roots, Math.floor(Date.now() / 1000), card.pan);
    await paymentJwe(cert, device.privateKey, kid, terms, card);
  });

  return { nodeCrypto, sdk, secondsEach: seconds };
}
