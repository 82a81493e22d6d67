/**
 * Signing a head with the key provider, and reading one back: the JWS format is packages/crypto's (audit-head.ts),
 * the signature is the provider's (inside the HSM with pkcs11), so this module never holds a private key.
 */
import { AuditHeadError, unsignedAuditHead, verifyAuditHead } from "@mpay/crypto";
import type { AuditHeadPayload, AuditPublicJwk } from "@mpay/protocol";
import type { KeyProvider } from "../keys/provider.ts";

export interface SignedHead {
  payload: AuditHeadPayload;
  kid: string;
  jws: string;
}

export async function signHead(keys: KeyProvider, payload: AuditHeadPayload): Promise<SignedHead> {
  const { kid } = await keys.auditPublicKey();
  const unsigned = unsignedAuditHead(payload, kid);
  return { payload, kid, jws: unsigned.withSignature(await keys.signAuditHead(unsigned.signingInput)) };
}

/** The head a JWS states if it verifies under one of `keys`, else why not (a message that never quotes it). */
export async function readHead(
  jws: string,
  keys: readonly AuditPublicJwk[],
): Promise<{ ok: true; head: SignedHead } | { ok: false; message: string }> {
  try {
    const { payload, kid } = await verifyAuditHead(jws, keys);
    return { ok: true, head: { payload, kid, jws } };
  } catch (error) {
    if (error instanceof AuditHeadError) return { ok: false, message: error.message };
    throw error;
  }
}
