/**
 * The device's signature over a payment's terms: an ES256 compact JWS, `typ: mpay-approval+jws`, `kid` = the
 * device key's thumbprint, whose payload is exactly the canonical terms the server issued (byte for byte: a JWS
 * over other terms, or over the same terms serialised differently, is refused).
 */
import { ApiError } from "../http/errors.ts";
import { verifyCompactJws, type VerifiedJws } from "../devices/compact-jws.ts";
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
    // node:crypto on the device key parsed once per thumbprint (compact-jws.ts), as the device statements.
    result = verifyCompactJws(jws, devicePublicKey(device.keyThumbprint, device.publicKeyJwk));
  } catch {
    throw fail("bad signature, algorithm or encoding");
  }
  if (result.protectedHeader.typ !== "mpay-approval+jws") throw fail("wrong typ");
  if (result.protectedHeader.kid !== device.keyThumbprint) throw fail("kid does not name the challenge's device");
  if (new TextDecoder().decode(result.payload) !== canonicalTerms) throw fail("it covers other terms");
}
