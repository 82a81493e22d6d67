/**
 * The network's certificates of the pay server's statement keys, as the operator installs them (`mpay
 * statement-key install`). A certificate is taken only when it is well formed, of the right `typ`, for one of this
 * server's keys, and not expired; whether the network root's signature holds is the issuer's to check (the pay
 * server is not told which roots the issuers trust, and needs not be).
 */
import { createHash } from "node:crypto";
import { asc } from "drizzle-orm";
import { joseHeader, statementKeyCertificateContent } from "@mpay/crypto";
import { JOSE_TYPES, type StatementKeyCertificate } from "@mpay/protocol";
import type { Db } from "../db/client.ts";
import { statementKeyCertificates } from "./schema.ts";
import { ApiError } from "../http/errors.ts";
import type { StatementKey } from "./statement-keys.ts";

export interface InstalledCertificate {
  kid: string;
  acquirerId: string;
  certificate: string;
  notBefore: Date;
  notAfter: Date;
}

const invalid = (message: string) => new ApiError("statement_key_certificate_invalid", message);

/** Checks `jws` against this server's keys at `now`; answers its content, or `statement_key_certificate_invalid`. */
export function checkCertificateForKeys(
  jws: string,
  keys: readonly StatementKey[],
  now: Date,
): StatementKeyCertificate {
  let header: Record<string, unknown>;
  try {
    header = joseHeader(jws);
  } catch {
    throw invalid("This is not a compact JWS; paste the certificate exactly as the card network issued it.");
  }
  if (header["alg"] !== "ES256" || header["typ"] !== JOSE_TYPES.statementKeyCertificate) {
    throw invalid(`This is not a statement-key certificate (a JWS of typ ${JOSE_TYPES.statementKeyCertificate}).`);
  }
  let content: StatementKeyCertificate;
  try {
    content = statementKeyCertificateContent(jws);
  } catch {
    throw invalid("The certificate's content is not { acquirerId, jwk, kid, nbf, exp }.");
  }
  const key = keys.find((k) => k.kid === content.kid);
  if (!key || key.publicJwk.x !== content.jwk.x || key.publicJwk.y !== content.jwk.y) {
    throw invalid(
      "The certificate is for a key this server does not hold; `mpay statement-key show` prints the keys to certify.",
    );
  }
  if (content.exp * 1000 <= now.getTime()) throw invalid("The certificate has expired.");
  if (content.exp <= content.nbf) throw invalid("The certificate's validity window is empty.");
  return content;
}

export async function insertCertificate(db: Db, jws: string, content: StatementKeyCertificate): Promise<void> {
  await db
    .insert(statementKeyCertificates)
    .values({
      id: createHash("sha256").update(jws).digest("base64url"),
      kid: content.kid,
      acquirerId: content.acquirerId,
      certificate: jws,
      notBefore: new Date(content.nbf * 1000),
      notAfter: new Date(content.exp * 1000),
    })
    .onConflictDoNothing();
}

/** Every installed certificate, oldest installation first. */
export async function installedCertificates(db: Db): Promise<InstalledCertificate[]> {
  return db
    .select({
      kid: statementKeyCertificates.kid,
      acquirerId: statementKeyCertificates.acquirerId,
      certificate: statementKeyCertificates.certificate,
      notBefore: statementKeyCertificates.notBefore,
      notAfter: statementKeyCertificates.notAfter,
    })
    .from(statementKeyCertificates)
    .orderBy(asc(statementKeyCertificates.installedAt));
}
