/**
 * Issuer certificates (DESIGN.md "Split custody", point 4): a card-network root vouches for an issuer's
 * encryption key and the BIN ranges it serves, as an ES256 JWS over `{issuerId, name, binRanges, jwk, kid, nbf,
 * exp}`. The wallet trusts no issuer key that the pay server vouches for: it checks the root's signature (roots it
 * ships with, by `kid`), the validity window, and that the card's BIN is in the ranges, before it encrypts a PAN.
 */
import { binInRanges, issuerCertificateSchema, JOSE_TYPES, type IssuerCertificate } from "@mpay/protocol";
import canonicalize from "canonicalize";
import { signWith, type JoseKey } from "./jose-policy.ts";
import { rootSignedPayload, type NetworkRoot } from "./network-root.ts";

export type { NetworkRoot } from "./network-root.ts";

export type CertificateProblem =
  | "certificate_invalid"
  | "certificate_untrusted"
  | "certificate_expired"
  | "certificate_not_yet_valid"
  | "bin_not_covered";

export class IssuerCertificateError extends Error {
  constructor(
    readonly code: CertificateProblem,
    message: string,
  ) {
    super(message);
    this.name = "IssuerCertificateError";
  }
}

/** Signs an issuer certificate with a root private key (the certify script's job; no service holds a root key). */
export async function signIssuerCertificate(
  certificate: IssuerCertificate,
  rootPrivateKey: JoseKey,
  rootKid: string,
): Promise<string> {
  const parsed = issuerCertificateSchema.parse(certificate);
  return signWith(new TextEncoder().encode(canonicalize(parsed)), rootPrivateKey, {
    typ: JOSE_TYPES.issuerCertificate,
    kid: rootKid,
  });
}

/**
 * Verifies a certificate against the trusted roots at `nowSeconds`; with `pan`, also that the card's BIN is in its
 * ranges. Returns the certified content.
 */
export async function verifyIssuerCertificate(
  jws: string,
  roots: readonly NetworkRoot[],
  nowSeconds: number,
  pan?: string,
): Promise<IssuerCertificate> {
  const signed = await rootSignedPayload(jws, roots, JOSE_TYPES.issuerCertificate);
  if (!signed.ok) {
    if (signed.problem === "not_a_jws")
      throw new IssuerCertificateError("certificate_invalid", "the issuer certificate is not a JWS");
    if (signed.problem === "root_unknown")
      throw new IssuerCertificateError(
        "certificate_untrusted",
        "the issuer certificate is not signed by a card-network root this wallet trusts",
      );
    const why = signed.problem === "algorithm_refused" ? "uses an algorithm that is not accepted" : "does not verify";
    throw new IssuerCertificateError("certificate_untrusted", `the issuer certificate's signature ${why}`);
  }
  let parsed: IssuerCertificate;
  try {
    parsed = issuerCertificateSchema.parse(JSON.parse(new TextDecoder().decode(signed.payload)));
  } catch {
    throw new IssuerCertificateError("certificate_invalid", "the issuer certificate's content is malformed");
  }
  if (parsed.nbf > nowSeconds)
    throw new IssuerCertificateError(
      "certificate_not_yet_valid",
      `the certificate of ${parsed.issuerId} is not valid yet`,
    );
  if (parsed.exp <= nowSeconds)
    throw new IssuerCertificateError("certificate_expired", `the certificate of ${parsed.issuerId} has expired`);
  if (pan !== undefined && !binInRanges(pan, parsed.binRanges)) {
    throw new IssuerCertificateError(
      "bin_not_covered",
      `the certificate of ${parsed.issuerId} does not cover this card's BIN`,
    );
  }
  return parsed;
}
