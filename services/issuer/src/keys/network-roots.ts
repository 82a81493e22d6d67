/**
 * The card-network roots an issuer host trusts (ISSUER_NETWORK_ROOTS_FILE): public keys only, read once at start.
 * They decide which PIN statements count (only under a pay-server key they certified) and vouch for the host's own
 * issuer certificates, which must be theirs too: a host never serves a certificate its network did not sign.
 */
import { readFile } from "node:fs/promises";
import { verifyIssuerCertificate, IssuerCertificateError, type NetworkRoot } from "@mpay/crypto";
import { networkRootsFileSchema } from "@mpay/protocol";

export async function loadNetworkRoots(file: string): Promise<readonly NetworkRoot[]> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    throw new Error(
      `cannot read the network roots at ${file} (ISSUER_NETWORK_ROOTS_FILE: the card network's root public keys; npm start writes the demo network's)`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = networkRootsFileSchema.safeParse(json);
  if (!parsed.success)
    throw new Error(`the network roots at ${file} are not a JSON array of { kid, jwk (EC P-256 public), name }`);
  return Object.freeze(parsed.data.map((root) => Object.freeze(root)));
}

/**
 * Refuses a certificate that none of `roots` signed; answers false when it is theirs but outside its validity
 * window (the host still starts, and says so: wallets will refuse it until it is renewed).
 */
export async function certificateIsCurrent(
  issuerId: string,
  certificateJws: string,
  certificateFile: string,
  rootsFile: string,
  roots: readonly NetworkRoot[],
  nowSeconds: number,
): Promise<boolean> {
  try {
    await verifyIssuerCertificate(certificateJws, roots, nowSeconds);
    return true;
  } catch (error) {
    if (
      error instanceof IssuerCertificateError &&
      (error.code === "certificate_expired" || error.code === "certificate_not_yet_valid")
    )
      return false;
    throw new Error(
      `the certificate of ${issuerId} at ${certificateFile} is not signed by a root in ${rootsFile}: wallets of that network would refuse it`,
    );
  }
}
