/**
 * Signed audit heads (packages/protocol audit.ts): building the JWS signing input that the pay server's key
 * provider signs (in an HSM, so no JOSE library ever holds the key), and verifying a head with nothing but the
 * published public key, as `mpay audit verify` and the issuer's witness do.
 */
import { AUDIT_HEAD_TYP, auditHeadPayloadSchema, type AuditHeadPayload, type AuditPublicJwk } from "@mpay/protocol";
import canonicalize from "canonicalize";
import { JosePolicyError, jwsKid, verifyWith } from "./jose-policy.ts";

export type AuditHeadProblem = "audit_head_invalid" | "audit_head_unknown_key";

export class AuditHeadError extends Error {
  constructor(
    readonly code: AuditHeadProblem,
    message: string,
  ) {
    super(message);
    this.name = "AuditHeadError";
  }
}

export interface UnsignedAuditHead {
  /** The bytes to sign: `base64url(header) "." base64url(payload)`. */
  signingInput: Uint8Array;
  /** The compact JWS, given the raw r‖s signature over `signingInput`. */
  withSignature(signature: Uint8Array): string;
}

export function unsignedAuditHead(payload: AuditHeadPayload, kid: string): UnsignedAuditHead {
  const header = base64url(new TextEncoder().encode(JSON.stringify({ alg: "ES256", kid, typ: AUDIT_HEAD_TYP })));
  const body = base64url(new TextEncoder().encode(canonicalize(auditHeadPayloadSchema.parse(payload))));
  const text = `${header}.${body}`;
  return {
    signingInput: new TextEncoder().encode(text),
    withSignature: (signature) => {
      if (signature.length !== 64) throw new Error("an ES256 signature is 64 bytes (r‖s)");
      return `${text}.${base64url(signature)}`;
    },
  };
}

/**
 * Verifies a signed head against the trusted keys (by kid) and returns what it states. A head under a key not
 * in `keys` is `audit_head_unknown_key`; anything else wrong (format, algorithm, typ, signature, payload) is
 * `audit_head_invalid`. Messages never quote the head.
 */
export async function verifyAuditHead(
  jws: string,
  keys: readonly AuditPublicJwk[],
): Promise<{ payload: AuditHeadPayload; kid: string }> {
  let kid: string | undefined;
  try {
    kid = jwsKid(jws);
  } catch {
    throw new AuditHeadError("audit_head_invalid", "the audit head is not a compact JWS");
  }
  const key = keys.find((k) => k.kid === kid);
  if (!key)
    throw new AuditHeadError(
      "audit_head_unknown_key",
      "the audit head is signed by a key that is not the trusted audit key",
    );
  let payload: Uint8Array;
  try {
    ({ payload } = await verifyWith(jws, { kty: key.kty, crv: key.crv, x: key.x, y: key.y }, AUDIT_HEAD_TYP));
  } catch (error) {
    const why =
      error instanceof JosePolicyError && error.code !== "jose_invalid"
        ? error.message
        : "its signature does not verify";
    throw new AuditHeadError("audit_head_invalid", `the audit head is not valid: ${why}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(payload));
  } catch {
    throw new AuditHeadError("audit_head_invalid", "the audit head's payload is not JSON");
  }
  const result = auditHeadPayloadSchema.safeParse(parsed);
  if (!result.success) throw new AuditHeadError("audit_head_invalid", "the audit head's payload is not a head");
  return { payload: result.data, kid: key.kid };
}

function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
