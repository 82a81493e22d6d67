/**
 * The card-network roots a Wallet encrypts cards under (DESIGN.md "Split custody", point 4; issue 7, hole 2). They
 * come from the app's build and from nowhere else: the Wallet takes them once, at construction, keeps its own
 * frozen copy, and no answer of any server reaches them (the pay server's issuer listing carries certificates to
 * check, never roots to trust). A root is a public key only; anything else is refused here, so a mistake in a build
 * (a private key, an RSA key, a missing kid) fails at start instead of weakening the check later.
 */
import type { NetworkRoot } from "@mpay/crypto";
import { networkRootSchema } from "@mpay/protocol";

export function trustedRootsOf(roots: unknown): readonly NetworkRoot[] {
  if (!Array.isArray(roots) || roots.length === 0)
    throw new TypeError("Wallet needs trustedRoots: the card network's root keys this wallet encrypts cards under.");
  return Object.freeze(
    roots.map((root: unknown, index) => {
      const parsed = networkRootSchema.safeParse(root);
      if (!parsed.success)
        throw new TypeError(
          `trustedRoots[${index}] is not a network root public key ({ kid, jwk: EC P-256 x/y only, name })`,
        );
      const { kid, name, jwk } = parsed.data;
      return Object.freeze({ kid, name, jwk: Object.freeze({ ...jwk }) });
    }),
  );
}
