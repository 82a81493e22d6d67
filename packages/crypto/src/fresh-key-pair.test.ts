import { execFile } from "node:child_process";
import { createPublicKey, diffieHellman } from "node:crypto";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { freshP256, freshX25519 } from "./fresh-key-pair.ts";

const REPOSITORY = fileURLToPath(new URL("../../..", import.meta.url));

describe("freshP256", () => {
  it("gives a public JWK on the curve and the private key that belongs to it, different every time", () => {
    const pairs = Array.from({ length: 300 }, () => freshP256());
    for (const { privateKey, publicJwk } of pairs) {
      // createPublicKey refuses a point off the curve; the private key's own public half must be the JWK's.
      expect(createPublicKey({ key: { ...publicJwk }, format: "jwk" }).asymmetricKeyDetails?.namedCurve).toBe(
        "prime256v1",
      );
      expect(createPublicKey(privateKey).export({ format: "jwk" })).toEqual(publicJwk);
    }
    // In 300 keys some scalars have a leading zero byte (about 1 in 256 each): d is padded to 32 bytes all the same.
    expect(
      pairs.every(
        ({ privateKey }) => Buffer.from(String(privateKey.export({ format: "jwk" }).d), "base64url").length === 32,
      ),
    ).toBe(true);
    expect(new Set(pairs.map((p) => p.publicJwk.x)).size).toBe(pairs.length);
  });
});

describe("freshX25519", () => {
  it("gives a key pair whose x is its raw public key and that agrees with another on a shared secret", () => {
    const a = freshX25519();
    const b = freshX25519();
    expect(a.publicKey.export({ format: "jwk" })).toEqual({ kty: "OKP", crv: "X25519", x: a.x });
    expect(Buffer.from(a.x, "base64url")).toHaveLength(32);
    expect(createPublicKey(a.privateKey).export({ format: "jwk" }).x).toBe(a.x);
    const ab = diffieHellman({ privateKey: a.privateKey, publicKey: b.publicKey });
    const ba = diffieHellman({ privateKey: b.privateKey, publicKey: a.publicKey });
    expect(ab.equals(ba)).toBe(true);
    expect(a.x).not.toBe(b.x);
  });
});

describe("no key-generation job (issue 11: generateKeyPairSync + JWK export deadlocks Node 20)", () => {
  it("makes and exports thousands of keys under allocation pressure without hanging", async () => {
    // The reproduction of the hang, run on the helpers in a child process so that a hang fails on the timeout
    // instead of freezing the test runner: with generateKeyPairSync (P-256) the same loop hung in each of 7 runs on
    // Node 20.20, the earliest after 1 500 rounds.
    const loop = `
      import { freshP256, freshX25519 } from "@mpay/crypto/fresh-key-pair";
      const junk = [];
      for (let i = 0; i < 2000; i++) {
        freshP256().privateKey.export({ format: "jwk" });
        freshX25519().privateKey.export({ format: "jwk" });
        junk.push(new Array(64).fill({ i }));
        if (junk.length > 2000) junk.length = 0;
      }
      console.log("done");
    `;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "--eval", loop],
      { cwd: REPOSITORY, timeout: 50_000, killSignal: "SIGKILL" },
    );
    expect(stdout.trim()).toBe("done");
  }, 60_000);
});
