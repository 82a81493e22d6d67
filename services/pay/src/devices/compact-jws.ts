/**
 * Verifies an ECDSA compact JWS (RFC 7515 §7.1, RFC 7518 §3.4) with node:crypto on a KeyObject parsed once per key,
 * instead of jose per request (issue 11: the pay server verified every device signature through jose's generic
 * path). Only what the device statements use: `ES256` (the caller may allow ES384/ES512, which the RFC 7520 §4.3
 * vector tests), a protected header that is a JSON object with no `crit` (no extension is understood here, so a
 * critical one must fail, RFC 7515 §4.1.11) and no `b64` (RFC 7797), signatures in the JWS R‖S form
 * (`dsaEncoding: "ieee-p1363"`). Cross-tested against jose both ways in compact-jws.test.ts.
 */
import { verify, type KeyObject } from "node:crypto";

export type EcdsaAlg = "ES256" | "ES384" | "ES512";

const PARAMS: Record<EcdsaAlg, { hash: string; signatureBytes: number; curve: string }> = {
  ES256: { hash: "sha256", signatureBytes: 64, curve: "prime256v1" },
  ES384: { hash: "sha384", signatureBytes: 96, curve: "secp384r1" },
  ES512: { hash: "sha512", signatureBytes: 132, curve: "secp521r1" },
};

const B64URL = /^[A-Za-z0-9_-]*$/;

/** Why a JWS was refused; the message never quotes the token. */
export class JwsInvalid extends Error {
  override name = "JwsInvalid";
}

export interface VerifiedJws {
  protectedHeader: Record<string, unknown>;
  payload: Uint8Array;
}

/** Strict base64url (no padding, no other alphabet), as RFC 7515 §2 requires. */
function base64url(part: string, what: string): Buffer {
  if (!B64URL.test(part) || part.length % 4 === 1) throw new JwsInvalid(`${what} is not base64url`);
  return Buffer.from(part, "base64url");
}

/** The protected header, decoded but NOT verified: only to find the key (e.g. its `kid`). */
export function decodeProtectedHeader(jws: string): Record<string, unknown> {
  const dot = jws.indexOf(".");
  if (dot <= 0) throw new JwsInvalid("not a compact JWS");
  let header: unknown;
  try {
    header = JSON.parse(base64url(jws.slice(0, dot), "header").toString("utf8"));
  } catch (error) {
    if (error instanceof JwsInvalid) throw error;
    throw new JwsInvalid("the header is not JSON");
  }
  if (header === null || typeof header !== "object" || Array.isArray(header))
    throw new JwsInvalid("the header is not a JSON object");
  return header as Record<string, unknown>;
}

export function verifyCompactJws(
  jws: string,
  key: KeyObject,
  algorithms: readonly EcdsaAlg[] = ["ES256"],
): VerifiedJws {
  const parts = jws.split(".");
  if (parts.length !== 3) throw new JwsInvalid("not a compact JWS");
  const [h, p, s] = parts as [string, string, string];
  const protectedHeader = decodeProtectedHeader(jws);
  const alg = protectedHeader["alg"];
  if (typeof alg !== "string" || !(algorithms as readonly string[]).includes(alg))
    throw new JwsInvalid("alg is not allowed");
  if ("crit" in protectedHeader) throw new JwsInvalid("a critical header extension is not understood");
  if ("b64" in protectedHeader) throw new JwsInvalid("unencoded payloads are not accepted");
  const params = PARAMS[alg as EcdsaAlg];
  if (key.type !== "public" || key.asymmetricKeyType !== "ec" || key.asymmetricKeyDetails?.namedCurve !== params.curve)
    throw new JwsInvalid(`the key is not an ${alg} public key`);
  const payload = base64url(p, "payload");
  const signature = base64url(s, "signature");
  if (signature.length !== params.signatureBytes) throw new JwsInvalid("the signature has the wrong length");
  const ok = verify(params.hash, Buffer.from(`${h}.${p}`, "ascii"), { key, dsaEncoding: "ieee-p1363" }, signature);
  if (!ok) throw new JwsInvalid("the signature does not verify");
  return { protectedHeader, payload: new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength) };
}
