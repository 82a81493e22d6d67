/**
 * The device's signature over a payment's terms: an ES256 compact JWS, `typ: mpay-approval+jws`, `kid` = the
 * device key's thumbprint, whose payload is exactly the canonical terms the server issued (byte for byte: a JWS
 * over other terms, or over the same terms serialised differently, is refused).
 */
import { compactVerify } from "jose";
import { ApiError } from "../http/errors.ts";
import { devicePublicKey, type DeviceJwk } from "../devices/signatures.ts";

const fail = (why: string) =>
  new ApiError("approval_signature_invalid", `The device's signature over the terms was refused: ${why}.`);

export async function verifyTermsSignature(
  jws: string,
  device: { keyThumbprint: string; publicKeyJwk: DeviceJwk },
  canonicalTerms: string,
): Promise<void> {
  let result: Awaited<ReturnType<typeof compactVerify>>;
  try {
    result = await compactVerify(jws, devicePublicKey(device.keyThumbprint, device.publicKeyJwk), {
      algorithms: ["ES256"],
    });
  } catch {
    throw fail("bad signature, algorithm or encoding");
  }
  if (result.protectedHeader.typ !== "mpay-approval+jws") throw fail("wrong typ");
  if (result.protectedHeader.kid !== device.keyThumbprint) throw fail("kid does not name the challenge's device");
  if (new TextDecoder().decode(result.payload) !== canonicalTerms) throw fail("it covers other terms");
}
