/**
 * Statements signed by a payer's device (ES256 compact JWS, `typ: mpay-device+jws`, `kid` = the device key's
 * RFC 7638 thumbprint, payload = canonical JSON with an `iat` and a single-use server `nonce`). They are the
 * device's word: what a messenger sign-in alone must not do (enrolling a card, storing its records, removing it,
 * setting the first PIN, vouching for another device). The device's word alone never makes a security change
 * (DESIGN.md "the power order"); DeviceService.verifyStatement checks the signature here and spends the nonce.
 * Parsed public keys are cached as KeyObjects by thumbprint (parsing per call cut ECDSA verification to a third
 * here), and verified with node:crypto (@mpay/crypto/node), not jose's generic path (issue 11).
 */
import type { KeyObject } from "node:crypto";
import { compactHeader, JosePolicyError, p256PublicKey, verifyCompact } from "@mpay/crypto/node";
import { calculateJwkThumbprint } from "jose";
import { z } from "zod";
import { devicePublicJwkSchema } from "@mpay/protocol";
import { ApiError } from "../http/errors.ts";

/** The device key's shape is the payer API's (packages/protocol). */
export const deviceJwkSchema = devicePublicJwkSchema;
export type DeviceJwk = z.infer<typeof deviceJwkSchema>;

/** A statement is good for this long after its `iat` (and 30 s before, for clock skew), and its nonce as long. */
export const STATEMENT_LIFETIME_SECONDS = 300;
const keyCache = new Map<string, KeyObject>();

/** Checks the key is a real P-256 point (canonical coordinates, on the curve) and returns its thumbprint. */
export async function deviceKeyThumbprint(jwk: DeviceJwk): Promise<string> {
  try {
    p256PublicKey(jwk);
  } catch {
    throw new ApiError("parameter_invalid", "publicKeyJwk is not a valid P-256 public key.", "publicKeyJwk");
  }
  return calculateJwkThumbprint(jwk, "sha256");
}

/** The device's public key as a KeyObject, parsed once per key. */
export function devicePublicKey(thumbprint: string, jwk: DeviceJwk): KeyObject {
  let key = keyCache.get(thumbprint);
  if (!key) {
    key = p256PublicKey(jwk);
    if (keyCache.size > 50_000) keyCache.clear();
    keyCache.set(thumbprint, key);
  }
  return key;
}

/** The `kid` a statement claims to be signed with (unverified: only to find the key). */
export function signerOf(jws: string): string {
  try {
    const header = compactHeader(jws);
    if (typeof header.kid === "string" && header.kid.length <= 64) return header.kid;
  } catch {
    // reported below
  }
  throw new ApiError("device_signature_invalid", "The device signature is not a well-formed JWS with a kid.");
}

/**
 * Verifies `jws` against the device key and that its payload is exactly the expected statement (same action and
 * fields: `purpose` names what the device vouches for) issued within the last five minutes. Returns the statement's
 * nonce, which the caller must spend (DeviceService.verifyStatement does); every failure is device_signature_invalid.
 */
export async function verifyDeviceStatement(
  jws: string,
  signer: { keyThumbprint: string; publicKeyJwk: DeviceJwk },
  expected: Record<string, string>,
  nowSeconds: number,
): Promise<{ nonce: string }> {
  const fail = (why: string) => new ApiError("device_signature_invalid", `The device signature was refused: ${why}.`);
  let payload: Record<string, unknown>;
  try {
    const result = verifyCompact(jws, devicePublicKey(signer.keyThumbprint, signer.publicKeyJwk), "mpay-device+jws");
    if (result.header["kid"] !== signer.keyThumbprint) throw fail("kid does not name the signing device");
    payload = JSON.parse(result.payload.toString("utf8")) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof ApiError) throw error;
    if (error instanceof JosePolicyError && error.code === "jose_type_mismatch") throw fail("wrong typ");
    throw fail("bad signature or encoding");
  }
  for (const [field, value] of Object.entries(expected)) {
    if (payload[field] !== value) throw fail(`it does not cover this ${field}`);
  }
  const iat = payload["iat"];
  if (typeof iat !== "number" || iat > nowSeconds + 30 || iat < nowSeconds - STATEMENT_LIFETIME_SECONDS)
    throw fail("it is too old or from the future");
  const nonce = payload["nonce"];
  if (typeof nonce !== "string" || !NONCE_PATTERN.test(nonce))
    throw fail("it carries no statement nonce (ask POST /v1/payer/statement-nonces for one)");
  return { nonce };
}

/** A statement nonce: 24 random bytes, base64url. */
export const NONCE_PATTERN = /^[A-Za-z0-9_-]{32}$/;
