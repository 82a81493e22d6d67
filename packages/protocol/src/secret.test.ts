import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { Secret } from "./secret.ts";

describe("Secret", () => {
  it("never shows its value except through peek", () => {
    const s = new Secret("sk_test_abcdef");
    expect(JSON.stringify({ s })).not.toContain("abcdef");
    expect(inspect({ nested: { s } }, { depth: 5 })).not.toContain("abcdef");
    expect(`${s}`).not.toContain("abcdef");
    expect(String(s)).toBe("[redacted]");
    expect(s.peek()).toBe("sk_test_abcdef");
  });
});
