import { createCipheriv, createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync } from "node:crypto";
import { CompactEncrypt, CompactSign, compactVerify, exportJWK, generateKeyPair } from "jose";
import { describe, expect, it } from "vitest";
import { decryptFrom, encryptTo, JosePolicyError, signWith, verifyWith } from "@mpay/crypto";
import { JOSE_TYPES } from "@mpay/protocol";
import {
  aesKeyUnwrap,
  compactHeader,
  concatKdf,
  decryptCompact,
  decryptEcdhEsKw,
  verifyCompact,
  verifyEcdsa,
} from "./compact-jose.ts";
import { PublicKeyCache } from "./public-key-cache.ts";

const typ = JOSE_TYPES.paymentEnvelope;

describe("the published vectors", () => {
  it("opens RFC 7520 §5.4 (ECDH-ES+A128KW, A128GCM, P-384) with the same code as the payment path", () => {
    const key = createPrivateKey({
      format: "jwk",
      key: {
        kty: "EC",
        crv: "P-384",
        x: "YU4rRUzdmVqmRtWOs2OpDE_T5fsNIodcG8G5FWPrTPMyxpzsSOGaQLpe2FpxBmu2",
        y: "A8-yxCHxkfBz3hKZfI1jUYMjUhsEveZ9THuwFjH2sCNdtksRJU7D5-SkgaFL1ETP",
        d: "iTx2pk7wW-GqJkHcEkFQb2EFyYcO7RugmaW3mRrQVAOUiPommT0IdnYK2xDlZh-j",
      },
    });
    const compact =
      "eyJhbGciOiJFQ0RILUVTK0ExMjhLVyIsImtpZCI6InBlcmVncmluLnRvb2tAdHVja2Jvcm91Z2guZXhhbXBsZSIsImVwayI6eyJrdHkiOiJFQyIsImNydiI6IlAtMzg0IiwieCI6InVCbzRrSFB3Nmtiang1bDB4b3dyZF9vWXpCbWF6LUdLRlp1NHhBRkZrYllpV2d1dEVLNml1RURzUTZ3TmROZzMiLCJ5Ijoic3AzcDVTR2haVkMyZmFYdW1JLWU5SlUyTW84S3BvWXJGRHI1eVBOVnRXNFBnRXdaT3lRVEEtSmRhWTh0YjdFMCJ9LCJlbmMiOiJBMTI4R0NNIn0" +
      ".0DJjBXri_kBcC46IkU5_Jk9BqaQeHdv2.mH-G2zVqgztUtnW_" +
      ".tkZuOO9h95OgHJmkkrfLBisku8rGf6nzVxhRM3sVOhXgz5NJ76oID7lpnAi_cPWJRCjSpAaUZ5dOR3Spy7QuEkmKx8-3RCMhSYMzsXaEwDdXta9Mn5B7cCBoJKB0IgEnj_qfo1hIi-uEkUpOZ8aLTZGHfpl05jMwbKkTe2yK3mjF6SBAsgicQDVCkcY9BLluzx1RmC3ORXaM0JaHPB93YcdSDGgpgBWMVrNU1ErkjcMqMoT_wtCex3w03XdLkjXIuEr2hWgeP-nkUZTPU9EoGSPj6fAS-bSz87RCPrxZdj_iVyC6QWcqAu07WNhjzJEPc4jVntRJ6K53NgPQ5p99l3Z408OUqj4ioYezbS6vTPlQ" +
      ".WuGzxmcreYjpHGJoa17EBg";
    const allowed = { alg: ["ECDH-ES+A128KW"], enc: ["A128GCM"] };
    const { plaintext } = decryptEcdhEsKw(compact, key, undefined, allowed);
    expect(plaintext.toString("utf8")).toBe(
      "You can trust us to stick with you through thick and thin\u2013to the bitter end. And you can trust us to keep " +
        "any secret of yours\u2013closer than you keep it yourself. But you cannot trust us to let you face trouble " +
        "alone, and go off without a word. We are your friends, Frodo.",
    );
    // The product's allow-list (A256KW / A256GCM only) refuses the same message before touching the key.
    expect(() => decryptCompact(compact, key, typ)).toThrow(/not accepted/);
  });

  it("verifies RFC 7520 §4.3 (ES512) with the same code as ES256, and refuses it under the ES256 policy", () => {
    const key = createPublicKey({
      format: "jwk",
      key: {
        kty: "EC",
        crv: "P-521",
        x: "AHKZLLOsCOzz5cY97ewNUajB957y-C-U88c3v13nmGZx6sYl_oJXu9A5RkTKqjqvjyekWF-7ytDyRXYgCF5cj0Kt",
        y: "AdymlHvOiLxXkEhayXQnNCvDX4h9htZaCJN34kfmC6pV5OhQHiraVySsUdaQkAgDPrwQrJmbnX9cwlGfP-HqHZR1",
      },
    });
    const jws =
      "eyJhbGciOiJFUzUxMiIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZXhhbXBsZSJ9" +
      ".SXTigJlzIGEgZGFuZ2Vyb3VzIGJ1c2luZXNzLCBGcm9kbywgZ29pbmcgb3V0IHlvdXIgZG9vci4gWW91IHN0ZXAgb250byB0aGUgcm9hZCwgYW5kIGlmIHlvdSBkb24ndCBrZWVwIHlvdXIgZmVldCwgdGhlcmXigJlzIG5vIGtub3dpbmcgd2hlcmUgeW91IG1pZ2h0IGJlIHN3ZXB0IG9mZiB0by4" +
      ".AE_R_YZCChjn4791jSQCrdPZCNYqHXCTZH0-JZGYNlaAjP2kqaluUIIUnC9qvbu9Plon7KRTzoNEuT4Va2cmL1eJAQy3mtPBu_u_sDDyYjnAMDxXPn7XrT0lw-kvAD890jl8e2puQens_IEKBpHABlsbEPX6sFY8OcGDqoRuBomu9xQ2";
    const { payload, header } = verifyEcdsa(jws, key, undefined, ["ES512"]);
    expect(payload.toString("utf8")).toMatch(/^It\u2019s a dangerous business, Frodo/);
    expect(header).toEqual({ alg: "ES512", kid: "bilbo.baggins@hobbiton.example" });
    const [h, p, s] = jws.split(".") as [string, string, string];
    const altered = `${h}.${p.replace("SXTi", "SXTj")}.${s}`;
    expect(() => verifyEcdsa(altered, key, undefined, ["ES512"])).toThrow(/does not verify/);
    expect(() => verifyCompact(jws, key, "x")).toThrow(/JWS algorithm ES512 is not accepted/);
  });

  it("derives RFC 7518 Appendix C's key with the Concat KDF", () => {
    const alice = createPrivateKey({
      format: "jwk",
      key: {
        kty: "EC",
        crv: "P-256",
        x: "gI0GAILBdu7T53akrFmMyGcsF3n5dO7MmwNBHKW5SV0",
        y: "SLW_xSffzlPWrHEVI30DHM_4egVwt3NQqeUD7nMFpps",
        d: "0_NxaRPUMQoAJt50Gz8YiTr8gRTwyEaCumd-MToTmIo",
      },
    });
    const bob = createPublicKey({
      format: "jwk",
      key: {
        kty: "EC",
        crv: "P-256",
        x: "weNJy2HscCSM6AEDTDg04biOvhFhyyWvOHQfeF_PxMQ",
        y: "e8lnCO-AlStT-NJVX-crhB7QRYhiix03illJOVAOyck",
      },
    });
    const z = diffieHellman({ privateKey: alice, publicKey: bob });
    expect(concatKdf(z, "A128GCM", Buffer.from("Alice"), Buffer.from("Bob"), 128).toString("base64url")).toBe(
      "VqqN6vgjbSBcIijNcacQGg",
    );
  });

  it("unwraps RFC 3394 §4.6 (256-bit key data under a 256-bit KEK) and refuses a changed wrap", () => {
    const kek = Buffer.from("000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F", "hex");
    const wrapped = Buffer.from(
      "28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21",
      "hex",
    );
    expect(aesKeyUnwrap(kek, wrapped).toString("hex").toUpperCase()).toBe(
      "00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F",
    );
    const changed = Buffer.from(wrapped);
    changed[0]! ^= 1;
    expect(() => aesKeyUnwrap(kek, changed)).toThrow();
  });
});

describe("against jose, both ways", () => {
  const plaintext = new TextEncoder().encode(JSON.stringify({ jws: "x".repeat(600) }));

  it("opens what jose encrypts (@mpay/crypto encryptTo), as jose's decryptFrom does", async () => {
    const issuer = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const jwe = await encryptTo(plaintext, issuer.publicKey, { typ, kid: "issuer-1" });
    const ours = decryptCompact(jwe, issuer.privateKey, typ);
    const theirs = await decryptFrom(jwe, issuer.privateKey, typ);
    expect(Buffer.from(ours.plaintext).equals(Buffer.from(plaintext))).toBe(true);
    expect(ours.header).toEqual(theirs.header);
  });

  it("refuses every JWE that jose's decryptFrom refuses, with the same code", async () => {
    const issuer = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const other = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const jwe = await encryptTo(plaintext, issuer.publicKey, { typ });
    const parts = jwe.split(".");
    const flip = (i: number) =>
      parts.map((p, j) => (j === i ? `${p.startsWith("A") ? "B" : "A"}${p.slice(1)}` : p)).join(".");
    const headerWith = (extra: Record<string, unknown>) => {
      const header = { ...compactHeader(jwe), ...extra };
      return [Buffer.from(JSON.stringify(header)).toString("base64url"), ...parts.slice(1)].join(".");
    };
    const dir = await new CompactEncrypt(plaintext)
      .setProtectedHeader({ alg: "ECDH-ES", enc: "A256GCM", typ })
      .encrypt(issuer.publicKey);
    const a128 = await new CompactEncrypt(plaintext)
      .setProtectedHeader({ alg: "ECDH-ES+A128KW", enc: "A256GCM", typ })
      .encrypt(issuer.publicKey);
    const cases: Array<[string, string, "jose_invalid" | "jose_type_mismatch" | "jose_algorithm_refused"]> = [
      ["tag changed", flip(4), "jose_invalid"],
      ["ciphertext changed", flip(3), "jose_invalid"],
      ["iv changed", flip(2), "jose_invalid"],
      ["wrapped key changed", flip(1), "jose_invalid"],
      ["tag cut to 8 bytes", [...parts.slice(0, 4), parts[4]!.slice(0, 11)].join("."), "jose_invalid"],
      ["header changed (AAD)", headerWith({ kid: "someone" }), "jose_invalid"],
      ["another typ", headerWith({ typ: JOSE_TYPES.enrollment }), "jose_type_mismatch"],
      ["crit", headerWith({ crit: ["exp"], exp: 1 }), "jose_invalid"],
      ["direct key agreement", dir, "jose_algorithm_refused"],
      ["A128KW", a128, "jose_algorithm_refused"],
      ["four parts", parts.slice(0, 4).join("."), "jose_invalid"],
    ];
    for (const [what, bad, code] of cases) {
      const theirs = await decryptFrom(bad, issuer.privateKey, typ).then(
        () => "opened",
        (e: unknown) => (e instanceof JosePolicyError ? e.code : "other"),
      );
      let ours: string;
      try {
        decryptCompact(bad, issuer.privateKey, typ);
        ours = "opened";
      } catch (e) {
        ours = e instanceof JosePolicyError ? e.code : "other";
      }
      expect({ what, ours, theirs }).toEqual({ what, ours: code, theirs: code });
    }
    expect(() => decryptCompact(jwe, other.privateKey, typ)).toThrow(/could not be decrypted/);
    await expect(decryptFrom(jwe, other.privateKey, typ)).rejects.toThrow(/could not be decrypted/);
  });

  it("verifies what jose signs, and refuses what jose's verifyWith refuses", async () => {
    const device = await generateKeyPair("ES256");
    const key = createPublicKey({ format: "jwk", key: { ...(await exportJWK(device.publicKey)) } });
    const jws = await signWith(new TextEncoder().encode('{"a":1}'), device.privateKey, {
      typ: JOSE_TYPES.payment,
      kid: "k",
    });
    expect(verifyCompact(jws, key, JOSE_TYPES.payment).payload.toString()).toBe('{"a":1}');
    expect((await compactVerify(jws, key)).protectedHeader).toEqual(compactHeader(jws));
    const [h, p, s] = jws.split(".") as [string, string, string];
    const hs256 = await new CompactSign(new TextEncoder().encode("{}"))
      .setProtectedHeader({ alg: "HS256", typ: JOSE_TYPES.payment })
      .sign(new Uint8Array(32));
    const cases: Array<[string, string]> = [
      ["signature changed", `${h}.${p}.${(s.startsWith("A") ? "B" : "A") + s.slice(1)}`],
      ["payload changed", `${h}.${Buffer.from('{"a":2}').toString("base64url")}.${s}`],
      ["signature cut", `${h}.${p}.${s.slice(0, 40)}`],
      ["HS256", hs256],
      ["none", `${Buffer.from(JSON.stringify({ alg: "none", typ: JOSE_TYPES.payment })).toString("base64url")}.${p}.`],
    ];
    for (const [what, bad] of cases) {
      const theirs = await verifyWith(bad, key, JOSE_TYPES.payment).then(
        () => "verified",
        () => "refused",
      );
      let ours = "verified";
      try {
        verifyCompact(bad, key, JOSE_TYPES.payment);
      } catch {
        ours = "refused";
      }
      expect({ what, ours, theirs }).toEqual({ what, ours: "refused", theirs: "refused" });
    }
    expect(() => verifyCompact(jws, key, JOSE_TYPES.pinStatement)).toThrow(/expected a/);
  });
});

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
});

describe("a wrapped key of the wrong size", () => {
  it("is refused even when it unwraps (a 128-bit content key for A256GCM)", () => {
    const issuer = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const ephemeral = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const { x, y } = ephemeral.publicKey.export({ format: "jwk" });
    const header = Buffer.from(
      JSON.stringify({ alg: "ECDH-ES+A256KW", enc: "A256GCM", typ, epk: { kty: "EC", crv: "P-256", x, y } }),
    ).toString("base64url");
    const kek = concatKdf(
      diffieHellman({ privateKey: ephemeral.privateKey, publicKey: issuer.publicKey }),
      "ECDH-ES+A256KW",
      new Uint8Array(0),
      new Uint8Array(0),
      256,
    );
    const wrapper = createCipheriv("id-aes256-wrap", kek, Buffer.from("A6A6A6A6A6A6A6A6", "hex"));
    const wrapped = Buffer.concat([wrapper.update(Buffer.alloc(16, 1)), wrapper.final()]).toString("base64url");
    const jwe = `${header}.${wrapped}.AAAAAAAAAAAAAAAA.AAAA.AAAAAAAAAAAAAAAAAAAAAA`;
    expect(() => decryptCompact(jwe, issuer.privateKey, typ)).toThrow(/could not be decrypted/);
  });
});
