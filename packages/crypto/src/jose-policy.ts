/**
 * The only JOSE algorithms MPay accepts (DESIGN.md "Split custody", step 2): JWE `ECDH-ES+A256KW` on P-256 with
 * `A256GCM`, JWS `ES256`. Every decrypt and verify here passes jose an allow-list, so a message with `alg`
 * `RSA1_5`, `dir`, `PBES2-*`, `none` or anything else is refused before any key is used, and checks the `typ`, so
 * one kind of object (an enrollment, a payment, a certificate) never passes for another.
 */
import {
  CompactEncrypt,
  CompactSign,
  compactDecrypt,
  compactVerify,
  decodeProtectedHeader,
  importJWK,
  type JWK,
  type KeyInput,
} from "jose";
import { JWE_CONTENT_ENCRYPTION_ALGORITHMS, JWE_KEY_MANAGEMENT_ALGORITHMS, JWS_ALGORITHMS } from "@mpay/protocol";

/** A key as jose takes it: a WebCrypto key (browser, Node) or, on the server, a node:crypto KeyObject. */
export type JoseKey = KeyInput;

export type JosePolicyErrorCode = "jose_algorithm_refused" | "jose_type_mismatch" | "jose_invalid";

export class JosePolicyError extends Error {
  constructor(
    readonly code: JosePolicyErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "JosePolicyError";
  }
}

const KEY_MANAGEMENT: readonly string[] = JWE_KEY_MANAGEMENT_ALGORITHMS;
const CONTENT_ENCRYPTION: readonly string[] = JWE_CONTENT_ENCRYPTION_ALGORITHMS;
const SIGNATURE: readonly string[] = JWS_ALGORITHMS;

/** Reads a compact JOSE object's protected header without trusting it; throws JosePolicyError on junk. */
export function joseHeader(compact: string): Record<string, unknown> {
  try {
    return decodeProtectedHeader(compact) as Record<string, unknown>;
  } catch {
    throw new JosePolicyError("jose_invalid", "not a compact JWS or JWE");
  }
}

/** Checks the header against the allow-lists before jose touches a key (a clear code for a refused algorithm). */
function checkHeader(compact: string, kind: "jwe" | "jws", typ: string): Record<string, unknown> {
  const header = joseHeader(compact);
  const parts = compact.split(".").length;
  if ((kind === "jwe" && parts !== 5) || (kind === "jws" && parts !== 3))
    throw new JosePolicyError("jose_invalid", `not a compact ${kind.toUpperCase()}`);
  if (
    kind === "jwe" &&
    (!KEY_MANAGEMENT.includes(String(header["alg"])) || !CONTENT_ENCRYPTION.includes(String(header["enc"])))
  ) {
    throw new JosePolicyError(
      "jose_algorithm_refused",
      `JWE algorithm ${String(header["alg"])}/${String(header["enc"])} is not accepted`,
    );
  }
  if (kind === "jws" && !SIGNATURE.includes(String(header["alg"]))) {
    throw new JosePolicyError("jose_algorithm_refused", `JWS algorithm ${String(header["alg"])} is not accepted`);
  }
  if (header["typ"] !== typ) throw new JosePolicyError("jose_type_mismatch", `expected a ${typ}`);
  if (header["crit"] !== undefined || header["zip"] !== undefined)
    throw new JosePolicyError("jose_invalid", "crit and zip are not accepted");
  return header;
}

/** Encrypts `plaintext` to a P-256 public key (ECDH-ES+A256KW, A256GCM) with the given `typ` and `kid`. */
export async function encryptTo(
  plaintext: Uint8Array,
  publicKey: JoseKey | JWK,
  options: { typ: string; kid?: string },
): Promise<string> {
  const key = isJwk(publicKey) ? await importJWK(publicKey, "ECDH-ES+A256KW") : publicKey;
  return new CompactEncrypt(plaintext)
    .setProtectedHeader({
      alg: "ECDH-ES+A256KW",
      enc: "A256GCM",
      typ: options.typ,
      ...(options.kid !== undefined ? { kid: options.kid } : {}),
    })
    .encrypt(key);
}

/** Decrypts a JWE made by `encryptTo`, refusing any other algorithm or `typ`. The caller wipes the plaintext. */
export async function decryptFrom(
  jwe: string,
  privateKey: JoseKey,
  typ: string,
): Promise<{ plaintext: Uint8Array; header: Record<string, unknown> }> {
  const header = checkHeader(jwe, "jwe", typ);
  try {
    const { plaintext } = await compactDecrypt(jwe, privateKey, {
      keyManagementAlgorithms: [...KEY_MANAGEMENT],
      contentEncryptionAlgorithms: [...CONTENT_ENCRYPTION],
    });
    return { plaintext, header };
  } catch {
    // No detail from jose: whether the key, the tag or the format failed is nobody's business but ours.
    throw new JosePolicyError("jose_invalid", "the JWE could not be decrypted");
  }
}

/** Signs `payload` with ES256, the given `typ` and `kid`. */
export async function signWith(
  payload: Uint8Array,
  privateKey: JoseKey,
  options: { typ: string; kid: string },
): Promise<string> {
  return new CompactSign(payload)
    .setProtectedHeader({ alg: "ES256", typ: options.typ, kid: options.kid })
    .sign(privateKey);
}

/** The `kid` of a JWS, read before verifying (to find the key); trust nothing else of it until verified. */
export function jwsKid(jws: string): string | undefined {
  const kid = joseHeader(jws)["kid"];
  return typeof kid === "string" ? kid : undefined;
}

/** Verifies an ES256 JWS of the given `typ`; returns its payload bytes. */
export async function verifyWith(
  jws: string,
  publicKey: JoseKey | JWK,
  typ: string,
): Promise<{ payload: Uint8Array; header: Record<string, unknown> }> {
  const header = checkHeader(jws, "jws", typ);
  const key = isJwk(publicKey) ? await importJWK(publicKey, "ES256") : publicKey;
  try {
    const { payload } = await compactVerify(jws, key, { algorithms: [...SIGNATURE] });
    return { payload, header };
  } catch {
    throw new JosePolicyError("jose_invalid", "the signature does not verify");
  }
}

function isJwk(key: unknown): key is JWK {
  return typeof key === "object" && key !== null && "kty" in key && !(key instanceof CryptoKey);
}
