/**
 * The device's signature over a payment's terms: an ES256 compact JWS, `typ: mpay-approval+jws`, `kid` = the
 * device key's thumbprint, whose payload is exactly the canonical terms the server issued (byte for byte: a JWS
 * over other terms, or over the same terms serialised differently, is refused).
 */
import { JosePolicyError, verifyCompact, type VerifiedJws } from "@mpay/crypto/node";
import { ApiError } from "../http/errors.ts";
import { devicePublicKey, type DeviceJwk } from "../devices/signatures.ts";

const fail = (why: string) =>
  new ApiError("approval_signature_invalid", `The device's signature over the terms was refused: ${why}.`);

export async function verifyTermsSignature(
  jws: string,
  device: { keyThumbprint: string; publicKeyJwk: DeviceJwk },
  canonicalTerms: string,
): Promise<void> {
  let result: VerifiedJws;
  try {
    // node:crypto on the device key parsed once per thumbprint (@mpay/crypto/node), as the device statements.
    result = verifyCompact(jws, devicePublicKey(device.keyThumbprint, device.publicKeyJwk), "mpay-approval+jws");
  } catch (error) {
    if (error instanceof JosePolicyError && error.code === "jose_type_mismatch") throw fail("wrong typ");
    throw fail("bad signature, algorithm or encoding");
  }
  if (result.header["kid"] !== device.keyThumbprint) throw fail("kid does not name the challenge's device");
  if (result.payload.toString("utf8") !== canonicalTerms) throw fail("it covers other terms");
}
