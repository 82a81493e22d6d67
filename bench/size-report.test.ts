import { describe, expect, it } from "vitest";
import { bulkPan, luhnDigit } from "./bulk-seed.ts";
import { spread } from "./size-report.ts";

describe("cost with size", () => {
  it("spread is largest ÷ smallest − 1 over the positive, finite values", () => {
    expect(spread([10, 11, 12])).toBeCloseTo(0.2);
    expect(spread([5])).toBe(0);
    expect(spread([4, Number.NaN, 0, 5])).toBeCloseTo(0.25);
  });

  it("bulk PANs are Luhn-valid, of the issuer's BIN, distinct, and clear of the simulator's test cards", () => {
    expect(luhnDigit("411111111111111")).toBe("1"); // 4111 1111 1111 1111
    expect(luhnDigit("7992739871")).toBe("3"); // the classic example: 79927398713
    const pans = [0, 1, 99_999].map((n) => bulkPan("411100", n));
    expect(new Set(pans).size).toBe(3);
    for (const pan of pans) {
      expect(pan).toMatch(/^411100\d{10}$/);
      expect(luhnDigit(pan.slice(0, -1))).toBe(pan.at(-1));
    }
    expect(pans[0]).toBe(`411100500000000${luhnDigit("411100500000000")}`);
  });
});
