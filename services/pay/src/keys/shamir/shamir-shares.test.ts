import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { KeyProviderError } from "../provider.ts";
import {
  assertParameters,
  checkValue,
  checkValueMatches,
  combineShares,
  decodeShare,
  newMasterKey,
  newShareSet,
  shareIndex,
  splitMasterKey,
} from "./shamir-shares.ts";

/** A share as vaults made before share sets were named wrote it: `mpvs1_<base64url(share | checksum)>`. */
function legacyShare(share: Buffer): string {
  const sum = createHash("sha256").update("mpay-vault-share/v1|").update(share).digest().subarray(0, 4);
  return `mpvs1_${Buffer.concat([share, sum]).toString("base64url")}`;
}

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
    const set = newShareSet();
    const decoded = (await splitMasterKey(master, 5, 3, set)).map(decodeShare);
    expect(decoded.every((d) => d.shareSet === set)).toBe(true);
    const shares = decoded.map((d) => d.bytes);
    expect(new Set(shares.map(shareIndex)).size).toBe(5);
    for (const pick of [
      [0, 1, 2],
      [4, 2, 0],
      [1, 3, 4],
    ]) {
      expect((await combineShares(pick.map((i) => shares[i]!))).equals(master)).toBe(true);
    }
    expect((await combineShares([shares[0]!, shares[1]!])).equals(master)).toBe(false);
  });

  it("each share names its set; a legacy mpvs1 share is read with no set, and combines all the same", async () => {
    const master = newMasterKey();
    const [a, b] = await splitMasterKey(master, 2, 2, newShareSet());
    const other = await splitMasterKey(master, 2, 2, newShareSet());
    expect(decodeShare(a!).shareSet).not.toBe(decodeShare(other[0]!).shareSet);
    const legacy = [a!, b!].map((s) => decodeShare(legacyShare(decodeShare(s).bytes)));
    expect(legacy.map((l) => l.shareSet)).toEqual([null, null]);
    expect((await combineShares(legacy.map((l) => l.bytes))).equals(master)).toBe(true);
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
    const [share] = await splitMasterKey(newMasterKey(), 2, 2, newShareSet());
    expect(code(() => decodeShare(share!))).toBeNull();
    expect(code(() => decodeShare(` ${share!}\n`))).toBeNull(); // pasted with whitespace
    const typo = `${share!.slice(0, 30)}${share![30] === "x" ? "y" : "x"}${share!.slice(31)}`;
    // Another set id with the same share and checksum is a typo in the set id: the checksum covers it.
    const relabelled = `mpvs2_${Buffer.concat([Buffer.alloc(8, 7), Buffer.from(share!.slice(6), "base64url").subarray(8)]).toString("base64url")}`;
    for (const bad of [
      "",
      "mpvs2_",
      share!.slice(0, -2),
      `${share!}A`,
      share!.replace("mpvs2_", "mpvs1_"),
      share!.replace("mpvs2_", "mpvs3_"),
      typo,
      relabelled,
    ]) {
      expect(code(() => decodeShare(bad))).toBe("vault_share_invalid");
    }
    try {
      decodeShare(typo);
    } catch (error) {
      expect((error as Error).message).not.toContain(typo.slice(6, 20));
    }
  });

  it("accepts only 2 ≤ M ≤ N ≤ 255", () => {
    for (const [n, m] of [
      [1, 1],
      [3, 1],
      [3, 4],
      [256, 2],
      [2.5, 2],
    ] as const)
      expect(code(() => assertParameters(n, m))).toBe("provider_misconfigured");
    for (const [n, m] of [
      [2, 2],
      [5, 3],
      [255, 255],
    ] as const)
      expect(code(() => assertParameters(n, m))).toBeNull();
  });
});
