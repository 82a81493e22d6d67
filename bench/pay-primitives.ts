/**
 * The raw cost of the JOSE work on a payment's path, beside bench/primitives.ts (ECDSA verify, OPAQUE), measured
 * the same way (CPU time of one thread of the bench process while nothing else runs), with the functions the
 * services themselves call (@mpay/crypto's jose policy, jose 6 over WebCrypto):
 *
 * - JWE encrypt, ECDH-ES+A256KW / A256GCM, to a public JWK imported per call: the pay server's release of the card
 *   to the device's one-time key (services/pay/src/vault/release.ts), about 400 bytes;
 * - JWE decrypt of such a release with a CryptoKey: what the device does with it (and the issuer's first step);
 * - the issuer's decrypt + verify of a device payment (services/issuer/src/authorization/open-payment.ts): the
 *   payment envelope decrypted with the issuer's key, then the device's ES256 JWS over terms and card verified
 *   against the bound device key, a JWK imported per call;
 * - ES256 sign with a KeyObject: the pay server's PIN statement for the issuer (issuers/statement-signer.ts).
 */
import { generateKeyPairSync } from "node:crypto";
import { decryptFrom, encryptTo, signWith, verifyWith } from "@mpay/crypto";
import { JOSE_TYPES } from "@mpay/protocol";
import { generateKeyPair, exportJWK, type JWK } from "jose";
import { measure, type PrimitiveRate } from "./primitives.ts";

export interface PayPrimitiveCosts {
  jweEncrypt: PrimitiveRate;
  jweDecrypt: PrimitiveRate;
  issuerDecryptVerify: PrimitiveRate;
  es256Sign: PrimitiveRate;
  secondsEach: number;
}

const publicJwkOf = async (key: CryptoKey): Promise<JWK> => {
  const { kty, crv, x, y } = await exportJWK(key);
  return { kty, crv, x, y };
};

export async function measurePayPrimitives(seconds = 1.5): Promise<PayPrimitiveCosts> {
  const samples = 32;
  const release = crypto.getRandomValues(new Uint8Array(400));

  // The device's one-time key, as the wallet makes it (P-256 ECDH, non-extractable private key).
  const oneTime = await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, false, ["deriveBits"]);
  const releaseJwk = await publicJwkOf(oneTime.publicKey);
  const jweEncrypt = await measure(seconds, () => encryptTo(release, releaseJwk, { typ: JOSE_TYPES.release }));
  const releases = await Promise.all(
    Array.from({ length: samples }, () => encryptTo(release, releaseJwk, { typ: JOSE_TYPES.release })),
  );
  const jweDecrypt = await measure(seconds, (i) =>
    decryptFrom(releases[i % samples] as string, oneTime.privateKey, JOSE_TYPES.release),
  );

  // A device payment as the issuer receives it: a device JWS over ~600 bytes of terms and card, in a JWE.
  const issuerKeys = await generateKeyPair("ECDH-ES+A256KW", { crv: "P-256" });
  const issuerJwk = await publicJwkOf(issuerKeys.publicKey);
  const deviceKeys = await generateKeyPair("ES256");
  const deviceJwk = await publicJwkOf(deviceKeys.publicKey);
  const payments = await Promise.all(
    Array.from({ length: samples }, async (_, i) => {
      const signed = new TextEncoder().encode(
        JSON.stringify({
          terms: { amount: 1000 + i, nonce: `n${i}`, padding: "x".repeat(400) },
          card: { pan: "4111000000000016", expiry: "12/31" },
        }),
      );
      const jws = await signWith(signed, deviceKeys.privateKey, { typ: JOSE_TYPES.payment, kid: "device" });
      return encryptTo(new TextEncoder().encode(jws), issuerJwk, { typ: JOSE_TYPES.paymentEnvelope, kid: "issuer" });
    }),
  );
  const issuerDecryptVerify = await measure(seconds, async (i) => {
    const { plaintext } = await decryptFrom(
      payments[i % samples] as string,
      issuerKeys.privateKey,
      JOSE_TYPES.paymentEnvelope,
    );
    await verifyWith(new TextDecoder().decode(plaintext), { ...deviceJwk }, JOSE_TYPES.payment);
  });

  const statementKey = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
  const statement = new TextEncoder().encode(
    JSON.stringify({
      iss: "mpay",
      method: "pin",
      paymentId: "pay_x",
      termsHash: "h".repeat(43),
      padding: "x".repeat(120),
    }),
  );
  const es256Sign = await measure(seconds, () =>
    signWith(statement, statementKey, { typ: JOSE_TYPES.pinStatement, kid: "pay" }),
  );

  return { jweEncrypt, jweDecrypt, issuerDecryptVerify, es256Sign, secondsEach: seconds };
}
