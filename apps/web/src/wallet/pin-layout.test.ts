import { describe, expect, it } from "vitest";
import { digitOfKey, randomBelow, shuffledDigits } from "./pin-layout.ts";

describe("the PIN pad's shuffled layout", () => {
  it("holds each digit exactly once", () => {
    for (let run = 0; run < 50; run++)
      expect([...shuffledDigits()].sort()).toEqual(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);
  });

  it("puts digits in different places from one opening to the next", () => {
    const layouts = new Set(Array.from({ length: 20 }, () => shuffledDigits().join("")));
    expect(layouts.size).toBeGreaterThan(15);
  });

  it("puts every digit in every position (no fixed slot)", () => {
    const seen = Array.from({ length: 10 }, () => new Set<string>());
    for (let run = 0; run < 400; run++) shuffledDigits().forEach((digit, position) => seen[position]!.add(digit));
    for (const digits of seen) expect(digits.size).toBe(10);
  });

  it("draws again above the largest multiple of the bound, so no value is favoured", () => {
    const draws = [0xffff_ffff, 0xffff_fffe, 7];
    const random = (into: Uint32Array) => {
      into[0] = draws.shift() ?? 0;
      return into;
    };
    expect(randomBelow(10, random)).toBe(7);
    expect(draws).toHaveLength(0);
  });

  it("types the digit of a digit key and nothing for other keys", () => {
    expect(digitOfKey("7")).toBe("7");
    expect(digitOfKey("a")).toBeNull();
    expect(digitOfKey("Enter")).toBeNull();
    expect(digitOfKey("77")).toBeNull();
  });
});
