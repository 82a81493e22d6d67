import { describe, expect, it } from "vitest";
import { KeyProviderError } from "./provider.ts";
import { assertParameters, checkValue, checkValueMatches, combineShares, decodeShare, newMasterKey, shareIndex, splitMasterKey } from "./shamir-shares.ts";

function code(run: () => unknown): string | null {
  try {
    run();
    return null;
  } catch (error) {
    return error instanceof KeyProviderError ? error.code : "other";
  }
}

describe("shamir shares", () => {
  it("any 3 of 5 shares give the master key back; 2 give something else", async () => {
    const master = newMasterKey();
    const shares = (await splitMasterKey(master, 5, 3)).map(decodeShare);
    expect(new Set(shares.map(shareIndex)).size).toBe(5);
    for (const pick of [[0, 1, 2], [4, 2, 0], [1, 3, 4]]) {
      expect((await combineShares(pick.map((i) => shares[i]!))).equals(master)).toBe(true);
    }
    expect((await combineShares([shares[0]!, shares[1]!])).equals(master)).toBe(false);
  });

  it("the check value tells the right key from a wrong one and does not contain the key", async () => {
    const master = newMasterKey();
    const stored = checkValue(master);
    expect(checkValueMatches(master, stored)).toBe(true);
    expect(checkValueMatches(newMasterKey(), stored)).toBe(false);
    expect(checkValueMatches(master, stored.slice(1))).toBe(false);
    expect(stored).not.toContain(master.toString("base64url").slice(0, 8));
  });

  it("refuses malformed and mistyped shares without quoting them", async () => {
    const [share] = await splitMasterKey(newMasterKey(), 2, 2);
    expect(code(() => decodeShare(share!))).toBeNull();
    expect(code(() => decodeShare(` ${share!}\n`))).toBeNull(); // pasted with whitespace
    const typo = `${share!.slice(0, 30)}${share![30] === "x" ? "y" : "x"}${share!.slice(31)}`;
    for (const bad of ["", "mpvs1_", share!.slice(0, -2), `${share!}A`, share!.replace("mpvs1_", "mpvs2_"), typo]) {
      expect(code(() => decodeShare(bad))).toBe("vault_share_invalid");
    }
    try {
      decodeShare(typo);
    } catch (error) {
      expect((error as Error).message).not.toContain(typo.slice(6, 20));
    }
  });

  it("accepts only 2 ≤ M ≤ N ≤ 255", () => {
    for (const [n, m] of [[1, 1], [3, 1], [3, 4], [256, 2], [2.5, 2]] as const) expect(code(() => assertParameters(n, m))).toBe("provider_misconfigured");
    for (const [n, m] of [[2, 2], [5, 3], [255, 255]] as const) expect(code(() => assertParameters(n, m))).toBeNull();
  });
});
