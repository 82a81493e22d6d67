import { describe, expect, it } from "vitest";
import { wipe, withWiped } from "./secrets.ts";

describe("secrets", () => {
  it("wipe overwrites every buffer in place, including views into a larger buffer", () => {
    const whole = Uint8Array.from([1, 2, 3, 4, 5, 6]);
    const share = Uint8Array.from([9, 9, 9]);
    wipe(share, whole.subarray(2, 4));
    expect([...share]).toEqual([0, 0, 0]);
    expect([...whole]).toEqual([1, 2, 0, 0, 5, 6]);
  });

  it("withWiped wipes after use, also when the use throws", async () => {
    const dek = Uint8Array.from([7, 7]);
    expect(await withWiped(dek, (bytes) => bytes[0])).toBe(7);
    expect([...dek]).toEqual([0, 0]);
    const share = Uint8Array.from([8, 8]);
    await expect(withWiped(share, () => Promise.reject(new Error("failed")))).rejects.toThrow("failed");
    expect([...share]).toEqual([0, 0]);
  });
});
