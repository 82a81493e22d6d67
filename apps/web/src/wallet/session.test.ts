import { describe, expect, it } from "vitest";
import { safeReturnPath } from "./session.ts";

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
