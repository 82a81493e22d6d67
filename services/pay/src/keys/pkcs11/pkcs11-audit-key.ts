/**
 * The audit head key of the `pkcs11` provider: an EC P-256 key pair made inside the token (label
 * `mpay-audit-head`), the private half sensitive and non-extractable, so every head is signed in the HSM and no
 * process, backup or insider with the database ever holds the key. ES256 is the safe choice on SoftHSM2 2.6
 * (its EdDSA support depends on how it was built).
 *
 * Signing is CKM_ECDSA over a SHA-256 digest computed here: the token answers raw r‖s, which is JOSE's form.
 * One key pair per token for the log's whole life; it is made by `mpay vault init`, or when a provider opens a
 * token initialized before audit heads were signed. Processes that may make it at the same time (several servers
 * starting on a new release) take one advisory lock in the shared database first, so exactly one pair is made.
 */
import { createHash } from "node:crypto";
import { sql } from "drizzle-orm";
import * as graphene from "graphene-pk11";
import type { Executor } from "../../db/client.ts";
import { auditPublicKeyOf } from "../audit-key.ts";
import { KeyProviderError } from "../provider.ts";
import type { AuditPublicKey } from "../provider.ts";

export const AUDIT_KEY_LABEL = "mpay-audit-head";
/** Any fixed number, distinct from the audit append lock: serialises making the key pair across processes. */
const AUDIT_KEY_LOCK = 7_402_313;
/** DER OCTET STRING header of an uncompressed P-256 point (65 bytes), as CKA_EC_POINT holds it. */
const EC_POINT_DER_PREFIX = Buffer.from([0x04, 0x41]);

export interface TokenAuditKey {
  privateKey: graphene.PrivateKey;
  publicKey: AuditPublicKey;
}

/** Serialises `ensureAuditKey` across processes for the rest of `tx`. */
export async function lockAuditKey(tx: Executor): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(${AUDIT_KEY_LOCK})`);
}

/** The token's audit key pair, made now if it has none (call under lockAuditKey). */
export async function ensureAuditKey(session: graphene.Session, tokenLabel: string): Promise<TokenAuditKey> {
  const found = await findAuditKey(session, tokenLabel);
  if (found) return found;
  session.generateKeyPair(
    graphene.KeyGenMechanism.EC,
    {
      keyType: graphene.KeyType.EC,
      token: true,
      private: false,
      label: AUDIT_KEY_LABEL,
      verify: true,
      paramsEC: graphene.NamedCurve.getByName("secp256r1").value,
    },
    {
      keyType: graphene.KeyType.EC,
      token: true,
      private: true,
      label: AUDIT_KEY_LABEL,
      sign: true,
      sensitive: true,
      extractable: false,
      derive: false,
      modifiable: false,
    },
  );
  const made = await findAuditKey(session, tokenLabel);
  if (!made)
    throw new KeyProviderError(
      "provider_misconfigured",
      `token "${tokenLabel}" did not keep the audit key pair it made`,
    );
  return made;
}

/** The token's audit key pair, or null when it has none. */
export async function findAuditKey(session: graphene.Session, tokenLabel: string): Promise<TokenAuditKey | null> {
  const privateKey = one(session, graphene.ObjectClass.PRIVATE_KEY, tokenLabel)?.toType<graphene.PrivateKey>();
  const publicObject = one(session, graphene.ObjectClass.PUBLIC_KEY, tokenLabel)?.toType<graphene.PublicKey>();
  if (!privateKey || !publicObject) return null;
  const point = publicObject.getAttribute({ pointEC: null }).pointEC;
  if (!point || point.length !== 67 || !point.subarray(0, 2).equals(EC_POINT_DER_PREFIX) || point[2] !== 0x04) {
    throw new KeyProviderError(
      "provider_misconfigured",
      `token "${tokenLabel}": ${AUDIT_KEY_LABEL} is not an uncompressed P-256 public key`,
    );
  }
  return { privateKey, publicKey: await auditPublicKeyOf(point.subarray(3, 35), point.subarray(35, 67)) };
}

/** ES256 inside the token: CKM_ECDSA over the SHA-256 of `signingInput`; the token answers r‖s. */
export function signInToken(session: graphene.Session, key: graphene.PrivateKey, signingInput: Uint8Array): Uint8Array {
  const digest = createHash("sha256").update(signingInput).digest();
  return new Uint8Array(session.createSign("ECDSA", key).once(digest));
}

function one(session: graphene.Session, kind: graphene.ObjectClass, tokenLabel: string): graphene.SessionObject | null {
  const found = session.find({ class: kind, label: AUDIT_KEY_LABEL });
  if (found.length > 1)
    throw new KeyProviderError(
      "provider_misconfigured",
      `token "${tokenLabel}" holds ${found.length} objects labelled ${AUDIT_KEY_LABEL}; remove the extra ones`,
    );
  return found.length === 1 ? found.items(0) : null;
}
