/**
 * The release of a card to its device for one payment (DESIGN.md "Split custody", payment step 2): K_srv and the
 * sealed records, encrypted (ECDH-ES+A256KW, A256GCM, `typ` release) to a P-256 key the device made for this one
 * payment. Nobody but that device's wallet can read it — not a log, not a proxy, not a replay to another device.
 *
 * Plaintext framing: the 32 bytes of K_srv, then the UTF-8 JSON of `{ cardId, sealedCard, sealedProfile,
 * recordVersion }`. K_srv stays in byte arrays that are wiped (it never becomes a string).
 *
 * The JWE is made with node:crypto (@mpay/crypto/node `encryptCompact`), not jose: jose imported the one-time key
 * and made and exported its ephemeral key through WebCrypto's JWK code on every release (issue 11: `initJwk` and
 * `exportJwk` were 1.4 % of the pay server). The device's wallet opens it with jose (compact-jose.test.ts).
 */
import { encryptCompact, p256PublicKey } from "@mpay/crypto/node";
import { ecPublicJwkSchema, JOSE_TYPES, type EcPublicJwk } from "@mpay/protocol";
import { ApiError } from "../http/errors.ts";

/** What the card's device gets back for one payment: its server share and sealed records. */
export interface ReleasedCard {
  kSrv: Uint8Array;
  sealedCard: string;
  sealedProfile: string | null;
  recordVersion: number;
}

/** Parses the device's one-time key; a key that is not a valid P-256 point is refused before any use. */
export function releaseKeyOf(jwk: unknown): EcPublicJwk {
  const parsed = ecPublicJwkSchema.safeParse(jwk);
  if (!parsed.success)
    throw new ApiError(
      "release_key_invalid",
      "releaseKey must be a P-256 public JWK (kty EC, crv P-256, x, y).",
      "releaseKey",
    );
  try {
    p256PublicKey(parsed.data);
  } catch {
    throw new ApiError("release_key_invalid", "releaseKey is not a point on P-256.", "releaseKey");
  }
  return { kty: "EC", crv: "P-256", x: parsed.data.x, y: parsed.data.y };
}

export async function encryptRelease(cardId: string, released: ReleasedCard, releaseKey: EcPublicJwk): Promise<string> {
  const rest = new TextEncoder().encode(
    JSON.stringify({
      cardId,
      sealedCard: released.sealedCard,
      sealedProfile: released.sealedProfile,
      recordVersion: released.recordVersion,
    }),
  );
  const plaintext = new Uint8Array(released.kSrv.length + rest.length);
  plaintext.set(released.kSrv, 0);
  plaintext.set(rest, released.kSrv.length);
  try {
    return encryptCompact(plaintext, releaseKey, { typ: JOSE_TYPES.release });
  } finally {
    plaintext.fill(0);
    released.kSrv.fill(0);
  }
}
