/**
 * The payment path's JOSE on node:crypto with keys parsed once (issue 11): jose over WebCrypto imports the
 * ephemeral key, the key-encryption key and the content key as CryptoKeys on every JWE (and the verification key
 * on every JWS), which cost the issuer host more CPU than the cryptography itself. Here a JWE is `diffieHellman`,
 * one SHA-256 (the Concat KDF), an AES key unwrap and AES-GCM, all synchronous, with the issuer's private key a
 * KeyObject; a JWS is one `crypto.verify` with a cached public KeyObject.
 *
 * The policy is @mpay/crypto's jose-policy.ts to the letter: the alg/enc allow-lists of the protocol
 * (ECDH-ES+A256KW with A256GCM, ES256), the expected `typ`, no `crit`, no `zip`; every failure past the header is
 * one `jose_invalid` without detail. compact-jose.test.ts checks RFC 7520 §5.4 and §4.3, RFC 7518 Appendix C,
 * RFC 3394 §4.6, and jose both ways. Enrollment and mandates, which are not hot, stay on jose-policy.ts.
 */
import {
  createDecipheriv,
  createHash,
  createPublicKey,
  diffieHellman,
  verify,
  type CipherGCMTypes,
  type JsonWebKey,
  type KeyObject,
} from "node:crypto";
import { JosePolicyError } from "@mpay/crypto";
import { JWE_CONTENT_ENCRYPTION_ALGORITHMS, JWE_KEY_MANAGEMENT_ALGORITHMS, JWS_ALGORITHMS } from "@mpay/protocol";

const KEY_MANAGEMENT: readonly string[] = JWE_KEY_MANAGEMENT_ALGORITHMS;
const CONTENT_ENCRYPTION: readonly string[] = JWE_CONTENT_ENCRYPTION_ALGORITHMS;
const SIGNATURE: readonly string[] = JWS_ALGORITHMS;

/** RFC 3394 §2.2.3.1's default initial value, which OpenSSL's `id-aesNNN-wrap` takes as its IV. */
const KEY_WRAP_IV = Buffer.from("A6A6A6A6A6A6A6A6", "hex");
const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** Key bits of the ECDH-ES+AxxxKW and AxxxGCM algorithms this code can run (the policy admits fewer). */
const WRAP_BITS: Record<string, number> = { "ECDH-ES+A128KW": 128, "ECDH-ES+A256KW": 256 };
const GCM_BITS: Record<string, number> = { A128GCM: 128, A256GCM: 256 };
const CURVES: Record<string, { hash: string; bytes: number }> = {
  ES256: { hash: "sha256", bytes: 32 },
  ES512: { hash: "sha512", bytes: 66 },
};

const invalid = (message: string) => new JosePolicyError("jose_invalid", message);

function decodePart(part: string): Buffer {
  if (!BASE64URL.test(part)) throw invalid("not base64url");
  return Buffer.from(part, "base64url");
}

function parseHeader(part: string): Record<string, unknown> {
  let header: unknown;
  try {
    header = JSON.parse(decodePart(part).toString("utf8"));
  } catch {
    throw invalid("the protected header is not JSON");
  }
  if (typeof header !== "object" || header === null || Array.isArray(header))
    throw invalid("the protected header is not an object");
  return header as Record<string, unknown>;
}

/** `typ` undefined: a header without one (only RFC 7520's vectors; the product always names the kind). */
function checkTyp(header: Record<string, unknown>, typ: string | undefined): void {
  if (header["typ"] !== typ)
    throw new JosePolicyError("jose_type_mismatch", `expected a ${typ ?? "JOSE object without typ"}`);
  if (header["crit"] !== undefined || header["zip"] !== undefined) throw invalid("crit and zip are not accepted");
}

const lengthPrefixed = (bytes: Uint8Array) => {
  const out = Buffer.alloc(4 + bytes.length);
  out.writeUInt32BE(bytes.length, 0);
  out.set(bytes, 4);
  return out;
};

/**
 * RFC 7518 §4.6.2: the Concat KDF with SHA-256 for a key of at most 256 bits (one round). `algorithmId` is the
 * `alg` when the result wraps a key, the `enc` for direct key agreement.
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
  return digest.subarray(0, bits / 8);
}

/** RFC 3394 key unwrap with OpenSSL's `id-aes128-wrap` / `id-aes256-wrap` (the KEK's length picks it). */
export function aesKeyUnwrap(kek: Buffer, wrapped: Buffer): Buffer {
  const unwrapper = createDecipheriv(`id-aes${kek.length * 8}-wrap`, kek, KEY_WRAP_IV);
  return Buffer.concat([unwrapper.update(wrapped), unwrapper.final()]);
}

/**
 * Opens a compact JWE (ECDH-ES+AxxxKW, AxxxGCM) with an EC private KeyObject, for the algorithms in `allowed`.
 * Exported for the RFC 7520 test, whose vector uses P-384 and 128-bit keys; the product calls `decryptCompact`.
 */
export function decryptEcdhEsKw(
  jwe: string,
  privateKey: KeyObject,
  typ: string | undefined,
  allowed: { alg: readonly string[]; enc: readonly string[] },
): { plaintext: Buffer; header: Record<string, unknown> } {
  const parts = jwe.split(".");
  if (parts.length !== 5) throw invalid("not a compact JWE");
  const [h, k, i, c, t] = parts as [string, string, string, string, string];
  const header = parseHeader(h);
  const alg = String(header["alg"]);
  const enc = String(header["enc"]);
  if (!allowed.alg.includes(alg) || !allowed.enc.includes(enc))
    throw new JosePolicyError("jose_algorithm_refused", `JWE algorithm ${alg}/${enc} is not accepted`);
  checkTyp(header, typ);
  const wrapBits = WRAP_BITS[alg];
  const gcmBits = GCM_BITS[enc];
  let kek: Buffer | undefined;
  let cek: Buffer | undefined;
  try {
    if (wrapBits === undefined || gcmBits === undefined) throw invalid("unsupported algorithm");
    const epk = header["epk"] as JsonWebKey | undefined;
    if (typeof epk !== "object" || epk === null || epk.kty !== "EC" || typeof epk.crv !== "string")
      throw invalid("no ephemeral key");
    // Only the public members; OpenSSL refuses a point that is not on the curve.
    const publicKey = createPublicKey({ key: { kty: "EC", crv: epk.crv, x: epk.x, y: epk.y }, format: "jwk" });
    const apu = typeof header["apu"] === "string" ? decodePart(header["apu"]) : Buffer.alloc(0);
    const apv = typeof header["apv"] === "string" ? decodePart(header["apv"]) : Buffer.alloc(0);
    const z = diffieHellman({ privateKey, publicKey });
    kek = concatKdf(z, alg, apu, apv, wrapBits);
    z.fill(0);
    cek = aesKeyUnwrap(kek, decodePart(k));
    const iv = decodePart(i);
    const tag = decodePart(t);
    if (cek.length * 8 !== gcmBits || iv.length !== 12 || tag.length !== 16) throw invalid("bad lengths");
    const mode: CipherGCMTypes = gcmBits === 128 ? "aes-128-gcm" : "aes-256-gcm";
    const decipher = createDecipheriv(mode, cek, iv, { authTagLength: 16 });
    decipher.setAAD(Buffer.from(h, "ascii"));
    decipher.setAuthTag(tag);
    const plaintext = Buffer.concat([decipher.update(decodePart(c)), decipher.final()]);
    return { plaintext, header };
  } catch {
    // No detail: whether the key, the tag or the format failed is nobody's business but ours.
    throw invalid("the JWE could not be decrypted");
  } finally {
    kek?.fill(0);
    cek?.fill(0);
  }
}

/** jose-policy.ts `decryptFrom` with a KeyObject: ECDH-ES+A256KW / A256GCM of `typ` only. The caller wipes it. */
export function decryptCompact(
  jwe: string,
  privateKey: KeyObject,
  typ: string,
): { plaintext: Buffer; header: Record<string, unknown> } {
  return decryptEcdhEsKw(jwe, privateKey, typ, { alg: KEY_MANAGEMENT, enc: CONTENT_ENCRYPTION });
}

/** The protected header of a compact JWS or JWE, unverified (to find its `kid`); JosePolicyError on junk. */
export function compactHeader(compact: string): Record<string, unknown> {
  return parseHeader(compact.slice(0, Math.max(0, compact.indexOf("."))));
}

/**
 * Verifies a compact ECDSA JWS whose `alg` is in `allowed`; exported for RFC 7520's ES512 vector. `readHeader`:
 * the header the caller already read from this same string with `compactHeader` (a PIN statement's carries a
 * whole certificate, not worth decoding twice).
 */
export function verifyEcdsa(
  jws: string,
  publicKey: KeyObject,
  typ: string | undefined,
  allowed: readonly string[],
  readHeader?: Record<string, unknown>,
): { payload: Buffer; header: Record<string, unknown> } {
  const parts = jws.split(".");
  if (parts.length !== 3) throw invalid("not a compact JWS");
  const [h, p, s] = parts as [string, string, string];
  const header = readHeader ?? parseHeader(h);
  const alg = String(header["alg"]);
  if (!allowed.includes(alg))
    throw new JosePolicyError("jose_algorithm_refused", `JWS algorithm ${alg} is not accepted`);
  checkTyp(header, typ);
  const curve = CURVES[alg];
  const payload = decodePart(p);
  const signature = decodePart(s);
  if (!curve || signature.length !== 2 * curve.bytes) throw invalid("the signature does not verify");
  let ok = false;
  try {
    ok = verify(
      curve.hash,
      Buffer.from(`${h}.${p}`, "ascii"),
      { key: publicKey, dsaEncoding: "ieee-p1363" },
      signature,
    );
  } catch {
    ok = false;
  }
  if (!ok) throw invalid("the signature does not verify");
  return { payload, header };
}

/** jose-policy.ts `verifyWith` with a KeyObject: ES256 of `typ` only (`readHeader`: see `verifyEcdsa`). */
export function verifyCompact(
  jws: string,
  publicKey: KeyObject,
  typ: string,
  readHeader?: Record<string, unknown>,
): { payload: Buffer; header: Record<string, unknown> } {
  return verifyEcdsa(jws, publicKey, typ, SIGNATURE, readHeader);
}

/** A P-256 public JWK as a KeyObject (only its public members are read). */
export function publicKeyOf(jwk: { kty: string; crv: string; x: string; y: string }): KeyObject {
  return createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }, format: "jwk" });
}
