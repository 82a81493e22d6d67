import { exportJWK, generateKeyPair } from "jose";
import { describe, expect, it } from "vitest";
import { PublicKeyCache } from "./public-key-cache.ts";

describe("PublicKeyCache", () => {
  it("parses a key once, finds it only by the key itself, and keeps at most its capacity", async () => {
    const cache = new PublicKeyCache(2);
    const jwkOf = async () => {
      const { kty, crv, x, y } = await exportJWK((await generateKeyPair("ES256", { extractable: true })).publicKey);
      return { kty: kty!, crv: crv!, x: x!, y: y! };
    };
    const a = await jwkOf();
    const b = await jwkOf();
    expect(cache.keyOf(a)).toBe(cache.keyOf({ ...a }));
    expect(cache.keyOf(b)).not.toBe(cache.keyOf(a));
    expect(cache.keyOf(a).export({ format: "jwk" })).toMatchObject({ x: a.x, y: a.y });
    cache.keyOf(await jwkOf());
    expect(cache.size).toBe(2);
  });

  it("refuses a key that is not a P-256 point", async () => {
    const a = { kty: "EC", crv: "P-256", x: "A".repeat(43), y: "A".repeat(43) };
    expect(() => new PublicKeyCache().keyOf(a)).toThrow(/not a point on P-256/);
  });
});
