/**
 * Certificates of an acquirer's PIN-statement key (DESIGN.md "Split custody", points 3 and 4; issue 7, hole 6): a
 * card-network root vouches that PIN statements signed with this ES256 key come from this acquirer (the pay
 * server), for a validity window. An issuer accepts a PIN statement only under a key so certified by a root it was
 * configured with, never a key because a URL served it.
 */
import { JOSE_TYPES, statementKeyCertificateSchema, type StatementKeyCertificate } from "@mpay/protocol";
import canonicalize from "canonicalize";
import { base64url } from "jose";
import { signWith, type JoseKey } from "./jose-policy.ts";
import { rootSignedPayload, type NetworkRoot } from "./network-root.ts";

export type StatementKeyCertificateProblem =
  | "certificate_invalid"
  | "certificate_untrusted"
  | "certificate_expired"
  | "certificate_not_yet_valid";

export class StatementKeyCertificateError extends Error {
  constructor(
    readonly code: StatementKeyCertificateProblem,
    message: string,
  ) {
    super(message);
    this.name = "StatementKeyCertificateError";
  }
}

/** Signs a statement-key certificate with a root private key (the network's job; no pay server holds a root key). */
export function signStatementKeyCertificate(
  certificate: StatementKeyCertificate,
  rootPrivateKey: JoseKey,
  rootKid: string,
): Promise<string> {
  const parsed = statementKeyCertificateSchema.parse(certificate);
  return signWith(new TextEncoder().encode(canonicalize(parsed)), rootPrivateKey, {
    typ: JOSE_TYPES.statementKeyCertificate,
    kid: rootKid,
  });
}

/** The certificate's content, unverified: for the pay server, which holds the key and checks it is its own. */
export function statementKeyCertificateContent(jws: string): StatementKeyCertificate {
  const parts = jws.split(".");
  try {
    if (parts.length !== 3) throw new Error("not compact");
    return statementKeyCertificateSchema.parse(JSON.parse(new TextDecoder().decode(base64url.decode(parts[1] ?? ""))));
  } catch {
    throw new StatementKeyCertificateError("certificate_invalid", "not a statement-key certificate");
  }
}

/** Verifies a statement-key certificate against `roots` at `nowSeconds`; returns the certified content. */
export async function verifyStatementKeyCertificate(
  jws: string,
  roots: readonly NetworkRoot[],
  nowSeconds: number,
): Promise<StatementKeyCertificate> {
  const signed = await rootSignedPayload(jws, roots, JOSE_TYPES.statementKeyCertificate);
  if (!signed.ok) {
    if (signed.problem === "not_a_jws")
      throw new StatementKeyCertificateError("certificate_invalid", "the statement-key certificate is not a JWS");
    throw new StatementKeyCertificateError(
      "certificate_untrusted",
      "the statement-key certificate is not signed by a network root this issuer trusts",
    );
  }
  let parsed: StatementKeyCertificate;
  try {
    parsed = statementKeyCertificateSchema.parse(JSON.parse(new TextDecoder().decode(signed.payload)));
  } catch {
    throw new StatementKeyCertificateError(
      "certificate_invalid",
      "the statement-key certificate's content is malformed",
    );
  }
  if (parsed.nbf > nowSeconds)
    throw new StatementKeyCertificateError(
      "certificate_not_yet_valid",
      "the statement-key certificate is not valid yet",
    );
  if (parsed.exp <= nowSeconds)
    throw new StatementKeyCertificateError("certificate_expired", "the statement-key certificate has expired");
  return parsed;
}
