import { describe, expect, it } from "vitest";
import { normalizePhoneNumber, Secret } from "@mpay/protocol";
import { decoyHash, hashPassword, verifyPassword } from "./passwords.ts";

describe("password hashing", () => {
  it("verifies the right password and refuses a wrong one", async () => {
    const hash = await hashPassword(new Secret("correct horse battery"));
    expect(hash).toMatch(/^scrypt\$32768\$8\$3\$[\w-]{22}\$[\w-]{43}$/);
    expect(hash).not.toContain("correct horse");
    expect(await verifyPassword(new Secret("correct horse battery"), hash)).toBe(true);
    expect(await verifyPassword(new Secret("correct horse batterY"), hash)).toBe(false);
  });

  it("salts every hash", async () => {
    const [a, b] = await Promise.all([
      hashPassword(new Secret("same password")),
      hashPassword(new Secret("same password")),
    ]);
    expect(a).not.toBe(b);
  });

  it("treats composed and decomposed Unicode alike (NFC)", async () => {
    const hash = await hashPassword(new Secret("caf\u00e9-password"));
    expect(await verifyPassword(new Secret("cafe\u0301-password"), hash)).toBe(true);
  });

  it("refuses malformed or hostile stored hashes instead of throwing or burning memory", async () => {
    for (const stored of [
      "",
      "bcrypt$x",
      "scrypt$1$8$1$$",
      "scrypt$4194304$8$1$c2FsdA$aGFzaA",
      "scrypt$32768$8$3$c2FsdA$c2hvcnQ",
    ]) {
      expect(await verifyPassword(new Secret("anything"), stored)).toBe(false);
    }
  });

  it("has a decoy hash that no empty or common password matches", async () => {
    const decoy = await decoyHash();
    expect(await verifyPassword(new Secret(""), decoy)).toBe(false);
    expect(await verifyPassword(new Secret("password"), decoy)).toBe(false);
  });
});

describe("phone numbers", () => {
  it("accepts E.164 with common separators and refuses the rest", () => {
    expect(normalizePhoneNumber("+82 10-1234-5678")).toBe("+821012345678");
    expect(normalizePhoneNumber("+1 (415) 555.0100")).toBe("+14155550100");
    for (const bad of ["010-1234-5678", "+0 10 1234 5678", "+82", "+8210abcd5678", "+8210123456789012", "", " "]) {
      expect(normalizePhoneNumber(bad)).toBeNull();
    }
  });
});
