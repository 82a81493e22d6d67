/**
 * The raw cost of the JOSE work on a payment's path, beside bench/primitives.ts (ECDSA verify, OPAQUE), measured
 * the same way (CPU time of one thread of the bench process while nothing else runs), with the functions the
 * services themselves call: the servers' JOSE on node:crypto (@mpay/crypto/node, compact-jose.ts), the device's
 * open with the wallet's jose policy over WebCrypto (@mpay/crypto):
 *
 * - JWE encrypt, ECDH-ES+A256KW / A256GCM, to the one-time public JWK (imported per call, a new key each payment):
 *   the pay server's release of the card to the device (services/pay/src/vault/release.ts), about 400 bytes;
 * - JWE decrypt of such a release with a CryptoKey: what the wallet does with it (jose);
 * - the issuer's decrypt + verify of a device payment (services/issuer/src/authorization/open-payment.ts): the
 *   payment envelope decrypted with the issuer's key, then the device's ES256 JWS over terms and card verified
 *   against the bound device key, parsed once (the issuer keeps device keys as KeyObjects: keys/public-key-cache.ts);
 * - ES256 sign with a KeyObject: the pay server's PIN statement for the issuer (issuers/statement-signer.ts).
 */
import { decryptFrom, encryptTo } from "@mpay/crypto";
import { freshP256 } from "@mpay/crypto/fresh-key-pair";
import { decryptCompact, encryptCompact, p256PublicKey, signCompact, verifyCompact } from "@mpay/crypto/node";
import { JOSE_TYPES } from "@mpay/protocol";
import { exportJWK, type JWK } from "jose";
import { measure, type PrimitiveRate } from "./primitives.ts";

export interface PayPrimitiveCosts {
  jweEncrypt: PrimitiveRate;
  jweDecrypt: PrimitiveRate;
  issuerDecryptVerify: PrimitiveRate;
  es256Sign: PrimitiveRate;
  secondsEach: number;
}

type P256Jwk = { kty: string; crv: string; x: string; y: string };

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
  const jweEncrypt = await measure(seconds, () =>
    encryptCompact(release, p256PublicKey(releaseJwk as P256Jwk), { typ: JOSE_TYPES.release }),
  );
  const releases = await Promise.all(
    Array.from({ length: samples }, () => encryptTo(release, releaseJwk, { typ: JOSE_TYPES.release })),
  );
  const jweDecrypt = await measure(seconds, (i) =>
    decryptFrom(releases[i % samples] as string, oneTime.privateKey, JOSE_TYPES.release),
  );

  // A device payment as the issuer receives it: a device JWS over ~600 bytes of terms and card, in a JWE.
  const issuerKeys = freshP256();
  const deviceKeys = freshP256();
  const devicePublic = p256PublicKey(deviceKeys.publicJwk);
  const payments = Array.from({ length: samples }, (_, i) => {
    const signed = new TextEncoder().encode(
      JSON.stringify({
        terms: { amount: 1000 + i, nonce: `n${i}`, padding: "x".repeat(400) },
        card: { pan: "4111000000000016", expiry: "12/31" },
      }),
    );
    const jws = signCompact(signed, deviceKeys.privateKey, { typ: JOSE_TYPES.payment, kid: "device" });
    return encryptCompact(new TextEncoder().encode(jws), issuerKeys.publicJwk, {
      typ: JOSE_TYPES.paymentEnvelope,
      kid: "issuer",
    });
  });
  const issuerDecryptVerify = await measure(seconds, (i) => {
    const { plaintext } = decryptCompact(
      payments[i % samples] as string,
      issuerKeys.privateKey,
      JOSE_TYPES.paymentEnvelope,
    );
    verifyCompact(plaintext.toString("utf8"), devicePublic, JOSE_TYPES.payment);
  });

  const statementKey = freshP256().privateKey;
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
    signCompact(statement, statementKey, { typ: JOSE_TYPES.pinStatement, kid: "pay" }),
  );

  return { jweEncrypt, jweDecrypt, issuerDecryptVerify, es256Sign, secondsEach: seconds };
}
