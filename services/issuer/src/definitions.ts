/**
 * The simulator's default card companies (fictional, modelled on a Samsung-like, a KB-like and a Hyundai-like
 * issuer). The certify script signs a certificate for each from these definitions; at run time an issuer takes its
 * name and BIN ranges from its certificate, so the certificate is the one source of what it serves.
 *
 * BIN ranges are test ranges that no real issuer uses here: visa-like 4…, mastercard-like 5…, local 9…, one
 * block of 100 BINs per brand and issuer, none overlapping (a unit test checks it).
 */
import type { BinRange } from "@mpay/protocol";

export const TEST_ROOT_IDS = ["test-root-a", "test-root-b"] as const;
export type TestRootId = (typeof TEST_ROOT_IDS)[number];

export interface IssuerDefinition {
  readonly id: string;
  readonly name: string;
  readonly binRanges: readonly BinRange[];
  /** Which test-network root signs its certificate: root A for two issuers, root B for one, so both are used. */
  readonly root: TestRootId;
}

export const DEFAULT_ISSUERS: readonly IssuerDefinition[] = [
  {
    id: "sampo",
    name: "Sampo Card",
    root: "test-root-a",
    binRanges: [
      { from: "411100", to: "411199" },
      { from: "511100", to: "511199" },
      { from: "941100", to: "941199" },
    ],
  },
  {
    id: "kstar",
    name: "KStar Card",
    root: "test-root-a",
    binRanges: [
      { from: "422200", to: "422299" },
      { from: "522200", to: "522299" },
      { from: "942200", to: "942299" },
    ],
  },
  {
    id: "handae",
    name: "Handae Card",
    root: "test-root-b",
    binRanges: [
      { from: "433300", to: "433399" },
      { from: "533300", to: "533399" },
      { from: "943300", to: "943399" },
    ],
  },
];

export const DEFAULT_ISSUER_IDS = DEFAULT_ISSUERS.map((issuer) => issuer.id);

export function defaultIssuer(id: string): IssuerDefinition | undefined {
  return DEFAULT_ISSUERS.find((issuer) => issuer.id === id);
}
