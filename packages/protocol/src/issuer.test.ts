import { describe, expect, it } from "vitest";
import { binInRanges, binRangeSchema, enrollmentPayloadSchema, luhnValid } from "./issuer.ts";

describe("card numbers and BIN ranges", () => {
  it("checks the Luhn digit", () => {
    expect(luhnValid("4111111111111111")).toBe(true);
    expect(luhnValid("4111111111111112")).toBe(false);
    expect(luhnValid("41111111111")).toBe(false); // too short
    expect(luhnValid("4111 1111 1111 1111")).toBe(false); // digits only
  });

  it("matches a PAN against BIN ranges of the range's own length", () => {
    const ranges = [
      { from: "941000", to: "941099" },
      { from: "55001200", to: "55001299" },
    ];
    expect(binInRanges("9410501234567890", ranges)).toBe(true);
    expect(binInRanges("9411001234567890", ranges)).toBe(false);
    expect(binInRanges("5500125012345678", ranges)).toBe(true);
    expect(binInRanges("5500130012345678", ranges)).toBe(false);
  });

  it("refuses a range whose bounds differ in length or are reversed", () => {
    expect(binRangeSchema.safeParse({ from: "941000", to: "9410999" }).success).toBe(false);
    expect(binRangeSchema.safeParse({ from: "941099", to: "941000" }).success).toBe(false);
  });

  it("refuses unknown fields in an enrollment (strict), and a bad card number", () => {
    const deviceKey = { kty: "EC", crv: "P-256", x: "a".repeat(43), y: "b".repeat(43) };
    const good = { pan: "4111111111111111", expiry: "12/29", cvc: "123", deviceKey, iat: 1 };
    expect(enrollmentPayloadSchema.safeParse(good).success).toBe(true);
    expect(enrollmentPayloadSchema.safeParse({ ...good, extra: 1 }).success).toBe(false);
    expect(enrollmentPayloadSchema.safeParse({ ...good, pan: "4111111111111112" }).success).toBe(false);
    expect(enrollmentPayloadSchema.safeParse({ ...good, expiry: "13/29" }).success).toBe(false);
  });
});
