/**
 * The building blocks of compact-jose.ts, on node:crypto (Node only: import them through `@mpay/crypto/node`).
 * Each is one RFC step, small enough to check against that RFC's own numbers (compact-jose.test.ts): strict
 * base64url (RFC 7515 §2), elliptic-curve points taken from a JWK (RFC 7518 §6.2.1), the Concat KDF (RFC 7518
 * §4.6.2), AES key wrap (RFC 3394), AES-GCM (RFC 7518 §5.3), and the opening of an ECDH-ES+AxxxKW JWE and the
 * check of an ECDSA JWS for a given suite. The suites other than P-256 exist for RFC 7520's vectors only; the
 * product's policy (compact-jose.ts) admits ES256 and ECDH-ES+A256KW/A256GCM on P-256 and nothing else.
 */
import {
  createCipheriv,
  createDecipheriv,
  createECDH,
  createHash,
  createPublicKey,
  verify,
  type CipherGCMTypes,
  type ECDH,
  type KeyObject,
} from "node:crypto";
import { JosePolicyError } from "./jose-policy.ts";

export const invalid = (message: string) => new JosePolicyError("jose_invalid", message);

const BASE64URL = /^[A-Za-z0-9_-]*$/;
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/**
 * Strict base64url: its alphabet only, no padding, and canonical (the bits past the last whole byte are zero), so
 * one byte string has exactly one text. Node's own decoder skips what it does not know, which would let two
 * different tokens carry the same signature.
 */
export function fromBase64url(part: string, what: string): Buffer {
  const rest = part.length % 4;
  if (rest === 1 || !BASE64URL.test(part)) throw invalid(`${what} is not base64url`);
  if (rest !== 0 && (ALPHABET.indexOf(part.charAt(part.length - 1)) & (rest === 2 ? 0x0f : 0x03)) !== 0)
    throw invalid(`${what} is not canonical base64url`);
  return Buffer.from(part, "base64url");
}

export const toBase64url = (bytes: Uint8Array | string): string => Buffer.from(bytes).toString("base64url");

/** A protected header: base64url of a JSON object (not an array, not a string). */
export function parseProtectedHeader(part: string): Record<string, unknown> {
  let header: unknown;
  try {
    header = JSON.parse(fromBase64url(part, "the protected header").toString("utf8"));
  } catch {
    throw invalid("the protected header is not JSON");
  }
  if (typeof header !== "object" || header === null || Array.isArray(header))
    throw invalid("the protected header is not a JSON object");
  return header as Record<string, unknown>;
}

/** The curves a JWK may name here, with OpenSSL's name, the coordinate length and the field prime. */
export const CURVES = {
  "P-256": { openssl: "prime256v1", bytes: 32, prime: 2n ** 256n - 2n ** 224n + 2n ** 192n + 2n ** 96n - 1n },
  "P-384": { openssl: "secp384r1", bytes: 48, prime: 2n ** 384n - 2n ** 128n - 2n ** 96n + 2n ** 32n - 1n },
  "P-521": { openssl: "secp521r1", bytes: 66, prime: 2n ** 521n - 1n },
} as const;
export type CurveName = keyof typeof CURVES;

const PRIMES = new Map(
  Object.entries(CURVES).map(([crv, c]) => [crv, Buffer.from(c.prime.toString(16).padStart(2 * c.bytes, "0"), "hex")]),
);

/**
 * The uncompressed point (0x04 ‖ x ‖ y) of a public EC JWK on `crv`: each coordinate exactly the curve's length and
 * below the field prime (a coordinate plus p would name the same point twice), no private member. Whether the point
 * lies on the curve is OpenSSL's check, made wherever the point is used (createPublicKey, ECDH computeSecret).
 */
export function ecPoint(jwk: unknown, crv: CurveName): Buffer {
  if (typeof jwk !== "object" || jwk === null) throw invalid("not an EC key");
  const { kty, crv: named, x, y } = jwk as Record<string, unknown>;
  if (kty !== "EC" || named !== crv || typeof x !== "string" || typeof y !== "string")
    throw invalid(`not a ${crv} public key`);
  if ("d" in jwk) throw invalid("a public key carries no private member");
  const { bytes } = CURVES[crv];
  const prime = PRIMES.get(crv) as Buffer;
  const xBytes = fromBase64url(x, "x");
  const yBytes = fromBase64url(y, "y");
  if (xBytes.length !== bytes || yBytes.length !== bytes) throw invalid("a coordinate has the wrong length");
  if (Buffer.compare(xBytes, prime) >= 0 || Buffer.compare(yBytes, prime) >= 0)
    throw invalid("a coordinate is not below the field prime");
  return Buffer.concat([Buffer.from([4]), xBytes, yBytes]);
}

/** A public EC JWK as a KeyObject, after ecPoint's checks; OpenSSL refuses a point off the curve. */
export function ecPublicKey(jwk: unknown, crv: CurveName): KeyObject {
  const point = ecPoint(jwk, crv);
  const { bytes } = CURVES[crv];
  try {
    return createPublicKey({
      key: {
        kty: "EC",
        crv,
        x: toBase64url(point.subarray(1, 1 + bytes)),
        y: toBase64url(point.subarray(1 + bytes)),
      },
      format: "jwk",
    });
  } catch {
    throw invalid(`not a point on ${crv}`);
  }
}

/** Each key's kind ("public:prime256v1"…), read once: Node 20 rebuilds `asymmetricKeyDetails` on every read. */
const kinds = new WeakMap<KeyObject, string>();

/** Whether `key` is an EC key of `type` on `crv` (alg confusion: an ES256 header never meets a P-384 key). */
export function isEcKey(key: KeyObject, type: "public" | "private", crv: CurveName): boolean {
  if (typeof key !== "object" || key === null) return false;
  let kind = kinds.get(key);
  if (kind === undefined) {
    kind = key.asymmetricKeyType === "ec" ? `${key.type}:${key.asymmetricKeyDetails?.namedCurve}` : String(key.type);
    kinds.set(key, kind);
  }
  return kind === `${type}:${CURVES[crv].openssl}`;
}

const lengthPrefixed = (bytes: Uint8Array): Buffer => {
  const out = Buffer.alloc(4 + bytes.length);
  out.writeUInt32BE(bytes.length, 0);
  out.set(bytes, 4);
  return out;
};

/**
 * RFC 7518 §4.6.2: the Concat KDF with SHA-256, for a key of at most 256 bits (one round). `algorithmId` is the
 * `alg` when the result wraps a key, the `enc` for direct key agreement (RFC 7518 Appendix C, RFC 7520 §5.5).
 */
export function concatKdf(z: Uint8Array, algorithmId: string, apu: Uint8Array, apv: Uint8Array, bits: number): Buffer {
  if (bits > 256 || bits % 8 !== 0) throw new RangeError("one SHA-256 round: at most 256 bits, whole bytes");
  const suppPubInfo = Buffer.alloc(4);
  suppPubInfo.writeUInt32BE(bits, 0);
  const digest = createHash("sha256")
    .update(Buffer.from([0, 0, 0, 1]))
    .update(z)
    .update(lengthPrefixed(Buffer.from(algorithmId, "ascii")))
    .update(lengthPrefixed(apu))
    .update(lengthPrefixed(apv))
    .update(suppPubInfo)
    .digest();
  return bits === 256 ? digest : digest.subarray(0, bits / 8);
}

/** RFC 3394 §2.2.3.1's default initial value, which OpenSSL's `id-aesNNN-wrap` takes as its IV. */
const KEY_WRAP_IV = Buffer.from("A6A6A6A6A6A6A6A6", "hex");
const wrapCipher = (kek: Uint8Array) => {
  if (kek.length !== 16 && kek.length !== 32) throw new RangeError("a 128- or 256-bit key-encryption key");
  return `id-aes${kek.length * 8}-wrap`;
};

/** RFC 3394 key wrap (the KEK's length picks AES-128 or AES-256). */
export function aesKeyWrap(kek: Uint8Array, key: Uint8Array): Buffer {
  const wrapper = createCipheriv(wrapCipher(kek), kek, KEY_WRAP_IV);
  return Buffer.concat([wrapper.update(key), wrapper.final()]);
}

/** RFC 3394 key unwrap; throws when the integrity check fails. */
export function aesKeyUnwrap(kek: Uint8Array, wrapped: Uint8Array): Buffer {
  const unwrapper = createDecipheriv(wrapCipher(kek), kek, KEY_WRAP_IV);
  return Buffer.concat([unwrapper.update(wrapped), unwrapper.final()]);
}

const gcmMode = (key: Uint8Array): CipherGCMTypes => {
  if (key.length !== 16 && key.length !== 32) throw new RangeError("a 128- or 256-bit content key");
  return key.length === 16 ? "aes-128-gcm" : "aes-256-gcm";
};

/** AES-GCM with a 96-bit IV and a 128-bit tag (RFC 7518 §5.3); `aad` is the ASCII of the encoded header. */
export function gcmSeal(cek: Uint8Array, iv: Uint8Array, aad: Uint8Array, plaintext: Uint8Array) {
  const cipher = createCipheriv(gcmMode(cek), cek, iv, { authTagLength: 16 });
  cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { ciphertext, tag: cipher.getAuthTag() };
}

/** The inverse of gcmSeal; throws when the tag does not match. */
export function gcmOpen(cek: Uint8Array, iv: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array) {
  if (iv.length !== 12 || tag.length !== 16) throw invalid("the IV or the tag has the wrong length");
  const decipher = createDecipheriv(gcmMode(cek), cek, iv, { authTagLength: 16 });
  decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
}

/** Each private key's ECDH context, made once: its scalar is set once, then each JWE is one `computeSecret`. */
const agreements = new WeakMap<KeyObject, ECDH>();

/**
 * The shared secret Z of `privateKey` and a peer's uncompressed point (OpenSSL refuses a point off the curve).
 * Through ECDH with the scalar set once, not `diffieHellman` with the peer imported as a KeyObject: the import
 * checks the key at the cost of a second scalar multiplication (the issuer's host spent 3 % of its CPU there), and
 * on these prime-order curves the on-curve check is the whole check.
 */
export function ecdhSecret(privateKey: KeyObject, crv: CurveName, peer: Uint8Array): Buffer {
  let agreement = agreements.get(privateKey);
  if (!agreement) {
    if (!isEcKey(privateKey, "private", crv)) throw invalid("not the suite's key");
    agreement = createECDH(CURVES[crv].openssl);
    const scalar = privateScalar(privateKey, CURVES[crv].bytes);
    try {
      agreement.setPrivateKey(scalar);
    } finally {
      scalar.fill(0);
    }
    agreements.set(privateKey, agreement);
  }
  return agreement.computeSecret(peer);
}

/** The private scalar of an EC key, from its SEC 1 DER (RFC 5915: version 1, then the scalar as an octet string). */
function privateScalar(privateKey: KeyObject, bytes: number): Buffer {
  const der = privateKey.export({ format: "der", type: "sec1" });
  try {
    let at = (der[1] ?? 0) & 0x80 ? 2 + ((der[1] ?? 0) & 0x7f) : 2;
    if (der[0] !== 0x30 || der[at] !== 0x02 || der[at + 1] !== 0x01 || der[at + 2] !== 0x01) throw invalid("not SEC 1");
    at += 3;
    if (der[at] !== 0x04 || der[at + 1] !== bytes) throw invalid("not SEC 1");
    return Buffer.from(der.subarray(at + 2, at + 2 + bytes));
  } finally {
    der.fill(0);
  }
}

/** `apu` / `apv` (RFC 7518 §4.6.1.2-3): absent is empty, present must be base64url. */
function partyInfo(header: Record<string, unknown>, name: "apu" | "apv"): Buffer {
  const value = header[name];
  if (value === undefined) return Buffer.alloc(0);
  if (typeof value !== "string") throw invalid(`${name} is not a string`);
  return fromBase64url(value, name);
}

/** An ECDH-ES key-agreement-with-key-wrapping suite (RFC 7518 §4.6, §5.3). */
export interface EcdhEsKwSuite {
  alg: string;
  crv: CurveName;
  wrapBits: 128 | 256;
  gcmBits: 128 | 256;
}

/**
 * Opens a compact JWE's five parts for `suite` with the recipient's private KeyObject; the header was read (and
 * its alg/enc/typ checked) by the caller. Every failure is one `jose_invalid` without detail: whether the key, the
 * wrap, the tag or the format failed is nobody's business but ours. Key material is wiped; the caller wipes the
 * plaintext.
 */
export function openEcdhEsKw(
  parts: readonly [string, string, string, string, string],
  header: Record<string, unknown>,
  privateKey: KeyObject,
  suite: EcdhEsKwSuite,
): Buffer {
  const [h, k, i, c, t] = parts;
  let z: Buffer | undefined;
  let kek: Buffer | undefined;
  let cek: Buffer | undefined;
  try {
    const epk = ecPoint(header["epk"], suite.crv);
    const apu = partyInfo(header, "apu");
    const apv = partyInfo(header, "apv");
    const wrapped = fromBase64url(k, "the encrypted key");
    // RFC 3394: the wrap of an n-byte key is n + 8 bytes; a content key of another size is refused even if it unwraps.
    if (wrapped.length !== suite.gcmBits / 8 + 8) throw invalid("the encrypted key has the wrong length");
    z = ecdhSecret(privateKey, suite.crv, epk);
    kek = concatKdf(z, suite.alg, apu, apv, suite.wrapBits);
    cek = aesKeyUnwrap(kek, wrapped);
    return gcmOpen(
      cek,
      fromBase64url(i, "the IV"),
      Buffer.from(h, "ascii"),
      fromBase64url(c, "the ciphertext"),
      fromBase64url(t, "the tag"),
    );
  } catch {
    throw invalid("the JWE could not be decrypted");
  } finally {
    z?.fill(0);
    kek?.fill(0);
    cek?.fill(0);
  }
}

/** An ECDSA JWS suite (RFC 7518 §3.4): the hash, the curve and the R ‖ S length. */
export interface EcdsaSuite {
  alg: string;
  hash: "sha256" | "sha384" | "sha512";
  crv: CurveName;
}

export const ES256: EcdsaSuite = { alg: "ES256", hash: "sha256", crv: "P-256" };

/** Checks a compact JWS's signature for `suite` with a public KeyObject of that suite's curve; returns the payload. */
export function checkEcdsa(parts: readonly [string, string, string], publicKey: KeyObject, suite: EcdsaSuite): Buffer {
  const [h, p, s] = parts;
  if (!isEcKey(publicKey, "public", suite.crv)) throw invalid("the key is not the algorithm's");
  const payload = fromBase64url(p, "the payload");
  const signature = fromBase64url(s, "the signature");
  if (signature.length !== 2 * CURVES[suite.crv].bytes) throw invalid("the signature does not verify");
  let ok = false;
  try {
    ok = verify(
      suite.hash,
      Buffer.from(`${h}.${p}`, "ascii"),
      { key: publicKey, dsaEncoding: "ieee-p1363" },
      signature,
    );
  } catch {
    ok = false;
  }
  if (!ok) throw invalid("the signature does not verify");
  return payload;
}
