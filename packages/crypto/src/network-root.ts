/**
 * Card-network roots and the one check every certificate they sign goes through. The roots are the caller's own
 * (shipped in a wallet build, configured at an issuer); nothing in the certificate chooses the key it is checked
 * with except its `kid`, looked up among those roots. The header is read only to find that `kid`; `jwk`, `jku`,
 * `x5c`, `x5u` and other members that name a key are never used, `alg` must be ES256 (so `none`, or HS256 keyed
 * with a root's public key, are refused before any key is used) and `typ` must be the kind of certificate asked for.
 */
import type { EcPublicJwk } from "@mpay/protocol";
import { JosePolicyError, jwsKid, verifyWith } from "./jose-policy.ts";

/** A card-network root public key, as shipped inside the wallet or configured at an issuer. */
export interface NetworkRoot {
  readonly kid: string;
  readonly jwk: EcPublicJwk;
  /** Who runs it (for messages). */
  readonly name: string;
}

export type RootSignatureProblem = "not_a_jws" | "root_unknown" | "algorithm_refused" | "signature_invalid";

/** The payload of `jws` when one of `roots` signed it as a `typ`, or why not. */
export async function rootSignedPayload(
  jws: string,
  roots: readonly NetworkRoot[],
  typ: string,
): Promise<{ ok: true; payload: Uint8Array; root: NetworkRoot } | { ok: false; problem: RootSignatureProblem }> {
  let kid: string | undefined;
  try {
    kid = jwsKid(jws);
  } catch {
    return { ok: false, problem: "not_a_jws" };
  }
  const root = roots.find((r) => r.kid === kid);
  if (!root) return { ok: false, problem: "root_unknown" };
  try {
    // Only the public members: the root is used as an ES256 verification key and nothing else.
    const { kty, crv, x, y } = root.jwk;
    const { payload } = await verifyWith(jws, { kty, crv, x, y }, typ);
    return { ok: true, payload, root };
  } catch (error) {
    return {
      ok: false,
      problem:
        error instanceof JosePolicyError && error.code === "jose_algorithm_refused"
          ? "algorithm_refused"
          : "signature_invalid",
    };
  }
}
