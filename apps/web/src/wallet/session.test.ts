import { describe, expect, it } from "vitest";
import { newPkcePair, safeReturnPath } from "./session.ts";

describe("sign-in return paths", () => {
  it("continue only to wallet paths, so a crafted link cannot send the payer elsewhere", () => {
    expect(safeReturnPath("/wallet/pay/pay_123")).toBe("/wallet/pay/pay_123");
    expect(safeReturnPath("/wallet")).toBe("/wallet");
    for (const path of [
      "//evil.example/wallet",
      "https://evil.example",
      "/chats/1",
      "/wallet/../x",
      "/wallet?x=1",
      "/wallet/signin",
      null,
    ])
      expect(safeReturnPath(path)).toBe("/wallet");
  });
});

describe("PKCE", () => {
  it("makes a 43-character verifier and its S256 challenge (RFC 7636 appendix B's vector shape)", async () => {
    const { codeVerifier, codeChallenge } = await newPkcePair();
    expect(codeVerifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(codeChallenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(codeVerifier)));
    expect(Buffer.from(digest).toString("base64url")).toBe(codeChallenge);
    expect((await newPkcePair()).codeVerifier).not.toBe(codeVerifier);
  });
});
