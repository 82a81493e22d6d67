import { createPublicKey } from "node:crypto";
import { describe, expect, it } from "vitest";
import { bulkDeviceKey } from "./bulk-seed.ts";

describe("a bulk payer's device key", () => {
  it("is a P-256 public key the servers can import, different for every payer", () => {
    const keys = Array.from({ length: 50 }, () => bulkDeviceKey());
    for (const jwk of keys) {
      // createPublicKey refuses a point that is not on the curve, so a wrong slice of the raw point fails here.
      const imported = createPublicKey({ key: jwk, format: "jwk" });
      expect(imported.asymmetricKeyDetails?.namedCurve).toBe("prime256v1");
      expect(imported.export({ format: "jwk" })).toMatchObject(jwk);
    }
    expect(new Set(keys.map((k) => k.x)).size).toBe(keys.length);
  });
});
