import { createPublicKey, diffieHellman } from "node:crypto";
import { describe, expect, it } from "vitest";
import { freshP256, type PublicEcJwk } from "./device-crypto.ts";

const importJwk = (jwk: PublicEcJwk) => createPublicKey({ key: { ...jwk }, format: "jwk" });

describe("a fresh P-256 key pair from ECDH's raw key (the devices' one-time keys, the bulk payers' device keys)", () => {
  it("gives a public JWK the servers can import and a private key that belongs to it, different every time", () => {
    const pairs = Array.from({ length: 300 }, () => freshP256());
    for (const { privateKey, publicJwk } of pairs.slice(0, 50)) {
      // createPublicKey refuses a point that is not on the curve, so a wrong slice of the raw point fails here.
      const imported = importJwk(publicJwk);
      expect(imported.asymmetricKeyDetails?.namedCurve).toBe("prime256v1");
      expect(createPublicKey(privateKey).export({ format: "jwk" })).toMatchObject(publicJwk);
    }
    // The pairs agree on a shared secret as any two P-256 keys do: the private halves are the ones of the points.
    const [a, b] = pairs as [(typeof pairs)[0], (typeof pairs)[0]];
    const ab = diffieHellman({
      privateKey: a.privateKey,
      publicKey: importJwk(b.publicJwk),
    });
    const ba = diffieHellman({
      privateKey: b.privateKey,
      publicKey: importJwk(a.publicJwk),
    });
    expect(ab.equals(ba)).toBe(true);
    expect(new Set(pairs.map((p) => p.publicJwk.x)).size).toBe(pairs.length);
  });
});
