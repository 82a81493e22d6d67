/**
 * MPay's JOSE on node:crypto, for the servers and the benchmark's devices (issue 11): ES256 compact JWS and
 * ECDH-ES+A256KW / A256GCM compact JWE on P-256, with keys as KeyObjects that the caller parses once and keeps.
 * jose over WebCrypto imports every key as a CryptoKey and makes ten promises per JWE, which cost the pay server and
 * the issuer more CPU than the cryptography; here a JWE is one ECDH, one SHA-256, one AES key wrap and one AES-GCM,
 * all synchronous. Node only: import it from `@mpay/crypto/node` (the wallet SDK stays on jose-policy.ts).
 *
 * The policy is jose-policy.ts's to the letter, with its error codes: the protocol's alg/enc allow-lists (no `none`,
 * no HMAC, no `dir`, so a public key never serves as a MAC secret), the expected `typ`, no `crit`, no `zip`, no
 * `b64: false`; keys of the wrong type or curve, points off the curve or with non-canonical coordinates, parts of
 * the wrong length and non-canonical base64url are refused; every failure past the header is one `jose_invalid`
 * without detail. compact-jose.test.ts checks it against RFC 7515 A.3, RFC 7520 §4.3, §5.4 and §5.5, RFC 7518
 * Appendix C, RFC 3394 §4.6, and against jose in both directions.
 */
import { createECDH, KeyObject, randomBytes, sign } from "node:crypto";
import { JWE_CONTENT_ENCRYPTION_ALGORITHMS, JWE_KEY_MANAGEMENT_ALGORITHMS, JWS_ALGORITHMS } from "@mpay/protocol";
import { JosePolicyError } from "./jose-policy.ts";
import {
  aesKeyWrap,
  checkEcdsa,
  concatKdf,
  ecPoint,
  ecPublicKey,
  ES256,
  gcmSeal,
  invalid,
  isEcKey,
  openEcdhEsKw,
  parseProtectedHeader,
  toBase64url,
  type EcdhEsKwSuite,
} from "./jose-primitives.ts";

const KEY_MANAGEMENT: readonly string[] = JWE_KEY_MANAGEMENT_ALGORITHMS;
const CONTENT_ENCRYPTION: readonly string[] = JWE_CONTENT_ENCRYPTION_ALGORITHMS;
const SIGNATURE: readonly string[] = JWS_ALGORITHMS;

/** The one JWE suite this file makes and opens (the protocol must admit it too). */
const JWE: EcdhEsKwSuite & { enc: string } = {
  alg: "ECDH-ES+A256KW",
  enc: "A256GCM",
  crv: "P-256",
  wrapBits: 256,
  gcmBits: 256,
};
const NO_PARTY_INFO = new Uint8Array(0);

/** A P-256 public key as a JWK (only these members are read). */
export interface P256PublicJwk {
  kty: string;
  crv: string;
  x: string;
  y: string;
}

export interface VerifiedJws {
  payload: Buffer;
  header: Record<string, unknown>;
}

export interface DecryptedJwe {
  /** The caller wipes it. */
  plaintext: Buffer;
  header: Record<string, unknown>;
}

/** A compact JWS's or JWE's protected header, NOT verified (to find its `kid`); JosePolicyError on junk. */
export function compactHeader(compact: string): Record<string, unknown> {
  const dot = compact.indexOf(".");
  if (dot <= 0) throw invalid("not a compact JWS or JWE");
  return parseProtectedHeader(compact.slice(0, dot));
}

/** A P-256 public JWK as a KeyObject, strictly: canonical 32-byte coordinates below the prime, on the curve. */
export function p256PublicKey(jwk: P256PublicJwk): KeyObject {
  return ecPublicKey(jwk, "P-256");
}

function checkTyp(header: Record<string, unknown>, typ: string): void {
  if (header["typ"] !== typ) throw new JosePolicyError("jose_type_mismatch", `expected a ${typ}`);
}

/** The header of a JWS signed by signCompact: its `typ`, usually a `kid`, and what else the receiver reads. */
export type JwsHeader = { typ: string; kid?: string } & { readonly [name: string]: unknown };

/** Signs `payload` with ES256; the protected header is `{ alg: "ES256", ...header }` in that order, as jose writes it. */
export function signCompact(payload: Uint8Array | string, privateKey: KeyObject, header: JwsHeader): string {
  for (const reserved of ["alg", "crit", "b64", "zip"])
    if (reserved in header) throw new TypeError(`${reserved} is not a header signCompact takes`);
  if (!isEcKey(privateKey, "private", "P-256")) throw new TypeError("ES256 signs with a P-256 private key");
  const signingInput = `${toBase64url(JSON.stringify({ alg: ES256.alg, ...header }))}.${toBase64url(payload)}`;
  const signature = sign(ES256.hash, Buffer.from(signingInput, "ascii"), {
    key: privateKey,
    dsaEncoding: "ieee-p1363",
  });
  return `${signingInput}.${toBase64url(signature)}`;
}

/**
 * Verifies an ES256 compact JWS of `typ` with a P-256 public KeyObject. `readHeader`: the header the caller already
 * read from this same string with compactHeader (a PIN statement's carries a whole certificate, not worth decoding
 * twice); never a header from anywhere else.
 */
export function verifyCompact(
  jws: string,
  publicKey: KeyObject,
  typ: string,
  readHeader?: Record<string, unknown>,
): VerifiedJws {
  const parts = jws.split(".");
  if (parts.length !== 3) throw invalid("not a compact JWS");
  const [h, p, s] = parts as [string, string, string];
  const header = readHeader ?? parseProtectedHeader(h);
  const alg = String(header["alg"]);
  if (alg !== ES256.alg || !SIGNATURE.includes(alg))
    throw new JosePolicyError("jose_algorithm_refused", `JWS algorithm ${alg} is not accepted`);
  checkTyp(header, typ);
  // b64 (RFC 7797) would sign the payload unencoded: no MPay statement does, so the payload is always base64url.
  if (header["crit"] !== undefined || header["b64"] !== undefined) throw invalid("crit and b64 are not accepted");
  return { payload: checkEcdsa([h, p, s], publicKey, ES256), header };
}

/** Recipients' points by KeyObject: a certified issuer key is exported once, not per JWE. */
const recipientPoints = new WeakMap<KeyObject, Buffer>();

function recipientPoint(recipient: KeyObject | P256PublicJwk): Buffer {
  if (!(recipient instanceof KeyObject)) return ecPoint(recipient, "P-256");
  let point = recipientPoints.get(recipient);
  if (!point) {
    if (!isEcKey(recipient, "public", "P-256")) throw invalid("not a P-256 public key");
    point = ecPoint(recipient.export({ format: "jwk" }), "P-256");
    recipientPoints.set(recipient, point);
  }
  return point;
}

/**
 * Encrypts `plaintext` (ECDH-ES+A256KW, A256GCM) to a P-256 public key, as jose-policy.ts `encryptTo`: the header is
 * `{ alg, enc, typ, kid?, epk }` as jose writes it. The ephemeral key is ECDH's raw key, not a KeyObject made and
 * exported as a JWK (on Node 20 that pair deadlocks now and then under load: bench/device-crypto.ts `freshP256`).
 * `recipient` a JWK: a one-time key used once (its point is checked here, and on the curve by OpenSSL).
 */
export function encryptCompact(
  plaintext: Uint8Array,
  recipient: KeyObject | P256PublicJwk,
  header: { typ: string; kid?: string },
): string {
  const point = recipientPoint(recipient);
  const ephemeral = createECDH("prime256v1");
  const epk = ephemeral.generateKeys();
  let z: Buffer;
  try {
    z = ephemeral.computeSecret(point);
  } catch {
    throw invalid("not a point on P-256");
  }
  const kek = concatKdf(z, JWE.alg, NO_PARTY_INFO, NO_PARTY_INFO, JWE.wrapBits);
  const cek = randomBytes(JWE.gcmBits / 8);
  try {
    const protectedHeader = toBase64url(
      JSON.stringify({
        alg: JWE.alg,
        enc: JWE.enc,
        typ: header.typ,
        ...(header.kid !== undefined ? { kid: header.kid } : {}),
        epk: { x: toBase64url(epk.subarray(1, 33)), crv: JWE.crv, kty: "EC", y: toBase64url(epk.subarray(33)) },
      }),
    );
    const encryptedKey = aesKeyWrap(kek, cek);
    const iv = randomBytes(12);
    const { ciphertext, tag } = gcmSeal(cek, iv, Buffer.from(protectedHeader, "ascii"), plaintext);
    return [protectedHeader, ...[encryptedKey, iv, ciphertext, tag].map((part) => toBase64url(part))].join(".");
  } finally {
    z.fill(0);
    kek.fill(0);
    cek.fill(0);
  }
}

/**
 * Opens a JWE of `typ` (ECDH-ES+A256KW, A256GCM) with a P-256 private KeyObject, as jose-policy.ts `decryptFrom`:
 * any other algorithm or `typ` is refused before the key is used. The caller wipes the plaintext.
 */
export function decryptCompact(jwe: string, privateKey: KeyObject, typ: string): DecryptedJwe {
  const parts = jwe.split(".");
  if (parts.length !== 5) throw invalid("not a compact JWE");
  const header = parseProtectedHeader(parts[0] as string);
  const alg = String(header["alg"]);
  const enc = String(header["enc"]);
  if (alg !== JWE.alg || enc !== JWE.enc || !KEY_MANAGEMENT.includes(alg) || !CONTENT_ENCRYPTION.includes(enc))
    throw new JosePolicyError("jose_algorithm_refused", `JWE algorithm ${alg}/${enc} is not accepted`);
  checkTyp(header, typ);
  if (header["crit"] !== undefined || header["zip"] !== undefined) throw invalid("crit and zip are not accepted");
  const plaintext = openEcdhEsKw(parts as [string, string, string, string, string], header, privateKey, JWE);
  return { plaintext, header };
}
