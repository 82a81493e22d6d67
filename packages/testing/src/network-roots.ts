/**
 * The test card network's roots (DESIGN.md "Split custody", point 4): it encrypts a PAN only to an
 * issuer key whose certificate one of these signed, within its validity window, for a BIN range covering the card.
 * Two roots, so that one can be rotated while the other still vouches.
 *
 * TEST ROOTS: these belong to MPay's test card network. Their private keys are committed in
 * services/issuer/fixtures/network/ and used only by services/issuer/scripts/certify.ts, so anyone can mint an
 * "issuer" they vouch for (issue 7, hole 2). They live in `@mpay/testing/network-roots`, which no product package
 * imports (issue 8; e2e/test-network-stays-in-tests.test.ts), so no SDK build ships them; the Wallet has no default
 * roots: a production build passes the real network's roots, and `npm start` its own demo root.
 */
import type { NetworkRoot } from "@mpay/crypto";

export const TEST_NETWORK_ROOTS: readonly NetworkRoot[] = Object.freeze([
  Object.freeze({
    kid: "wOqIAruypRe1IpGWubzqGfWycsEQCOgmrBKjlCXTAoU",
    jwk: Object.freeze({
      kty: "EC",
      crv: "P-256",
      x: "5iB09UAiLHw0t0Vt4GekY5G05W76TS3Svjz0Ea1ySbc",
      y: "uML_HMidL7tmPY7GGPLoaR5q-YQMCZ50-Htbcu9K6d4",
    } as const),
    name: "MPay Test Network Root A",
  }),
  Object.freeze({
    kid: "RHnc-6pwaQgch5BRgJplpZJiAL0adUUZqO0_AoDg2VU",
    jwk: Object.freeze({
      kty: "EC",
      crv: "P-256",
      x: "GOblozmlgrz-aS8WDkmdkgpsAtvhYWRaK_Je39na1SE",
      y: "WZKM6RWDMT4BQWwmfmGhc2rdkxe3khmyYkfhSC7k6W8",
    } as const),
    name: "MPay Test Network Root B",
  }),
]);
