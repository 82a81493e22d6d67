/**
 * compact-jose.ts (JOSE on node:crypto) against the published vectors and against jose in both directions (issue
 * 11: JOSE code that is not jose's own needs both). The vectors of curves and algorithms the policy refuses (RFC
 * 7520 §4.3 on P-521, §5.4 on P-384 with 128-bit keys) run through the same steps as the product's suite.
 */
import {
  createDecipheriv,
  createHmac,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  timingSafeEqual,
} from "node:crypto";
import { CompactEncrypt, CompactSign, compactDecrypt, compactVerify, exportJWK, generateKeyPair } from "jose";
import { describe, expect, it } from "vitest";
import { JOSE_TYPES } from "@mpay/protocol";
import { decryptFrom, encryptTo, JosePolicyError, signWith, verifyWith } from "./jose-policy.ts";
import {
  compactHeader,
  decryptCompact,
  encryptCompact,
  p256PublicKey,
  signCompact,
  verifyCompact,
} from "./compact-jose.ts";
import { freshP256 } from "./fresh-key-pair.ts";
import {
  aesKeyUnwrap,
  aesKeyWrap,
  checkEcdsa,
  concatKdf,
  ecdhSecret,
  ecPoint,
  fromBase64url,
  gcmSeal,
  openEcdhEsKw,
  parseProtectedHeader,
} from "./jose-primitives.ts";

/**
 * A P-256 pair without a key-generation job: generateKeyPairSync followed by a JWK export (as encryptCompact and
 * the tests below make of these keys) can deadlock Node 20 (issue 11, fresh-key-pair.ts).
 */
function p256Pair() {
  const { privateKey } = freshP256();
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

/** The device's approval of a payment's terms (the pay server's approvals/terms-signature.ts). */
const APPROVAL = "mpay-approval+jws";
const b64 = (bytes: Uint8Array | string) => Buffer.from(bytes).toString("base64url");
const text = (bytes: Uint8Array) => Buffer.from(bytes).toString("utf8");
const FRODO =
  "You can trust us to stick with you through thick and thin\u2013to the bitter end. And you can trust us to keep " +
  "any secret of yours\u2013closer than you keep it yourself. But you cannot trust us to let you face trouble " +
  "alone, and go off without a word. We are your friends, Frodo.";

/** What a call did: "ok", or the JosePolicyError code it threw ("other" for anything else). */
function outcome(run: () => unknown): string {
  try {
    run();
    return "ok";
  } catch (error) {
    return error instanceof JosePolicyError ? error.code : "other";
  }
}
const outcomeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => "ok",
    (error: unknown) => (error instanceof JosePolicyError ? error.code : "other"),
  );

// RFC 7515 Appendix A.3: "Example JWS Using ECDSA P-256 SHA-256".
const A3_JWK = {
  kty: "EC",
  crv: "P-256",
  x: "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
  y: "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
};
const A3_D = "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI";
const A3_JWS =
  "eyJhbGciOiJFUzI1NiJ9" +
  ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ" +
  ".DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";

describe("the published vectors", () => {
  it("verifies RFC 7515 A.3 (ES256), refuses it changed, and signs with its key what jose and A.3's key verify", async () => {
    const key = p256PublicKey(A3_JWK);
    const [h, p, s] = A3_JWS.split(".") as [string, string, string];
    expect(text(checkEcdsa([h, p, s], key, { alg: "ES256", hash: "sha256", crv: "P-256" }))).toBe(
      '{"iss":"joe",\r\n "exp":1300819380,\r\n "http://example.com/is_root":true}',
    );
    expect(parseProtectedHeader(h)).toEqual({ alg: "ES256" });
    // Through the policy, the vector has no typ: refused as such, not as a bad signature.
    expect(outcome(() => verifyCompact(A3_JWS, key, JOSE_TYPES.payment))).toBe("jose_type_mismatch");
    const changed = `${h}.${p}.${s.startsWith("D") ? "E" : "D"}${s.slice(1)}`;
    expect(() =>
      checkEcdsa(changed.split(".") as [string, string, string], key, { alg: "ES256", hash: "sha256", crv: "P-256" }),
    ).toThrow(/does not verify/);

    const privateKey = createPrivateKey({ key: { ...A3_JWK, d: A3_D }, format: "jwk" });
    const jws = signCompact('{"a":1}', privateKey, { typ: JOSE_TYPES.payment, kid: "a3" });
    expect(text(verifyCompact(jws, key, JOSE_TYPES.payment).payload)).toBe('{"a":1}');
    const theirs = await compactVerify(jws, key, { algorithms: ["ES256"] });
    expect(theirs.protectedHeader).toEqual({ alg: "ES256", typ: JOSE_TYPES.payment, kid: "a3" });
  });

  it("verifies RFC 7520 §4.3 (ES512) with the same steps as ES256, and the ES256 policy refuses it", () => {
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
    const es512 = { alg: "ES512", hash: "sha512", crv: "P-521" } as const;
    const [h, p, s] = jws.split(".") as [string, string, string];
    expect(text(checkEcdsa([h, p, s], key, es512))).toMatch(/^It\u2019s a dangerous business, Frodo/);
    expect(() => checkEcdsa([h, p.replace("SXTi", "SXTj"), s], key, es512)).toThrow(/does not verify/);
    expect(() => verifyCompact(jws, key, "x")).toThrow(/JWS algorithm ES512 is not accepted/);
    // An ES256 check never meets a P-521 key (no algorithm confusion through the key).
    expect(() => checkEcdsa([h, p, s], key, { alg: "ES256", hash: "sha256", crv: "P-256" })).toThrow(
      /not the algorithm's/,
    );
  });

  describe("RFC 7520 §5.4 (ECDH-ES+A128KW, A128GCM, P-384): the product's JWE steps on another suite", () => {
    const recipient = {
      kty: "EC",
      crv: "P-384",
      x: "YU4rRUzdmVqmRtWOs2OpDE_T5fsNIodcG8G5FWPrTPMyxpzsSOGaQLpe2FpxBmu2",
      y: "A8-yxCHxkfBz3hKZfI1jUYMjUhsEveZ9THuwFjH2sCNdtksRJU7D5-SkgaFL1ETP",
    };
    const ephemeral = {
      kty: "EC",
      crv: "P-384",
      x: "uBo4kHPw6kbjx5l0xowrd_oYzBmaz-GKFZu4xAFFkbYiWgutEK6iuEDsQ6wNdNg3",
      y: "sp3p5SGhZVC2faXumI-e9JU2Mo8KpoYrFDr5yPNVtW4PgEwZOyQTA-JdaY8tb7E0",
    };
    const header =
      "eyJhbGciOiJFQ0RILUVTK0ExMjhLVyIsImtpZCI6InBlcmVncmluLnRvb2tAdHVja2Jvcm91Z2guZXhhbXBsZSIsImVwayI6eyJrdHkiOiJFQyIsImNydiI6IlAtMzg0IiwieCI6InVCbzRrSFB3Nmtiang1bDB4b3dyZF9vWXpCbWF6LUdLRlp1NHhBRkZrYllpV2d1dEVLNml1RURzUTZ3TmROZzMiLCJ5Ijoic3AzcDVTR2haVkMyZmFYdW1JLWU5SlUyTW84S3BvWXJGRHI1eVBOVnRXNFBnRXdaT3lRVEEtSmRhWTh0YjdFMCJ9LCJlbmMiOiJBMTI4R0NNIn0";
    const encryptedKey = "0DJjBXri_kBcC46IkU5_Jk9BqaQeHdv2";
    const iv = "mH-G2zVqgztUtnW_";
    const ciphertext =
      "tkZuOO9h95OgHJmkkrfLBisku8rGf6nzVxhRM3sVOhXgz5NJ76oID7lpnAi_cPWJRCjSpAaUZ5dOR3Spy7QuEkmKx8-3RCMhSYMzsXaEwDdXta9Mn5B7cCBoJKB0IgEnj_qfo1hIi-uEkUpOZ8aLTZGHfpl05jMwbKkTe2yK3mjF6SBAsgicQDVCkcY9BLluzx1RmC3ORXaM0JaHPB93YcdSDGgpgBWMVrNU1ErkjcMqMoT_wtCex3w03XdLkjXIuEr2hWgeP-nkUZTPU9EoGSPj6fAS-bSz87RCPrxZdj_iVyC6QWcqAu07WNhjzJEPc4jVntRJ6K53NgPQ5p99l3Z408OUqj4ioYezbS6vTPlQ";
    const tag = "WuGzxmcreYjpHGJoa17EBg";
    const suite = { alg: "ECDH-ES+A128KW", crv: "P-384", wrapBits: 128, gcmBits: 128 } as const;

    it("opens Figure 117, and the product's policy refuses it before touching the key", () => {
      const key = createPrivateKey({
        format: "jwk",
        key: { ...recipient, d: "iTx2pk7wW-GqJkHcEkFQb2EFyYcO7RugmaW3mRrQVAOUiPommT0IdnYK2xDlZh-j" },
      });
      const parts = [header, encryptedKey, iv, ciphertext, tag] as const;
      expect(text(openEcdhEsKw(parts, parseProtectedHeader(header), key, suite))).toBe(FRODO);
      expect(outcome(() => decryptCompact(parts.join("."), key, JOSE_TYPES.release))).toBe("jose_algorithm_refused");
      const changedTag = [header, encryptedKey, iv, ciphertext, "XuGzxmcreYjpHGJoa17EBg"] as const;
      expect(() => openEcdhEsKw(changedTag, parseProtectedHeader(header), key, suite)).toThrow(
        /could not be decrypted/,
      );
    });

    it("encrypts to Figures 112, 115 and 116 from the RFC's ephemeral key, CEK and IV", () => {
      const ephemeralKey = createPrivateKey({
        format: "jwk",
        key: { ...ephemeral, d: "D5H4Y_5PSKZvhfVFbcCYJOtcGZygRgfZkpsBr59Icmmhe9sW6nkZ8WfwhinUfWJg" },
      });
      const z = ecdhSecret(ephemeralKey, "P-384", ecPoint(recipient, "P-384"));
      const kek = concatKdf(z, suite.alg, new Uint8Array(0), new Uint8Array(0), suite.wrapBits);
      const cek = fromBase64url("Nou2ueKlP70ZXDbq9UrRwg", "cek");
      expect(b64(aesKeyWrap(kek, cek))).toBe(encryptedKey);
      const sealed = gcmSeal(cek, fromBase64url(iv, "iv"), Buffer.from(header, "ascii"), Buffer.from(FRODO, "utf8"));
      expect(b64(sealed.ciphertext)).toBe(ciphertext);
      expect(b64(sealed.tag)).toBe(tag);
    });
  });

  it("agrees RFC 7520 §5.5's key on P-256 (ECDH-ES, A128CBC-HS256) both ways, and opens Figure 128 with it", () => {
    // Figure 120 (the recipient) and Figure 122 (the ephemeral key); Figure 123 is the agreed CEK.
    const recipient = {
      kty: "EC",
      crv: "P-256",
      x: "Ze2loSV3wrroKUN_4zhwGhCqo3Xhu1td4QjeQ5wIVR0",
      y: "HlLtdXARY_f55A3fnzQbPcm6hgr34Mp8p-nuzQCE0Zw",
    };
    const ephemeral = {
      kty: "EC",
      crv: "P-256",
      x: "mPUKT_bAWGHIhg0TpjjqVsP1rXWQu_vwVOHHtNkdYoA",
      y: "8BQAsImGeAS46fyWw5MhYfGTT0IjBpFw2SS34Dv4Irs",
    };
    const recipientKey = createPrivateKey({
      key: { ...recipient, d: "r_kHyZ-a06rmxM3yESK84r1otSg-aQcVStkRhA-iCM8" },
      format: "jwk",
    });
    const ephemeralKey = createPrivateKey({
      key: { ...ephemeral, d: "AtH35vJsQ9SGjYfOsjUxYXQKrPH3FjZHmEtSKoSN8cM" },
      format: "jwk",
    });
    const none = new Uint8Array(0);
    const opening = concatKdf(
      ecdhSecret(recipientKey, "P-256", ecPoint(ephemeral, "P-256")),
      "A128CBC-HS256",
      none,
      none,
      256,
    );
    const sending = concatKdf(
      ecdhSecret(ephemeralKey, "P-256", ecPoint(recipient, "P-256")),
      "A128CBC-HS256",
      none,
      none,
      256,
    );
    expect(b64(opening)).toBe("hzHdlfQIAEehb8Hrd_mFRhKsKLEzPfshfXs9l6areCc");
    expect(b64(sending)).toBe(b64(opening));

    // A128CBC-HS256 (RFC 7518 §5.2) is not MPay's: done here, only to show the agreed key opens the RFC's JWE.
    const jwe =
      "eyJhbGciOiJFQ0RILUVTIiwia2lkIjoibWVyaWFkb2MuYnJhbmR5YnVja0BidWNrbGFuZC5leGFtcGxlIiwiZXBrIjp7Imt0eSI6IkVDIiwiY3J2IjoiUC0yNTYiLCJ4IjoibVBVS1RfYkFXR0hJaGcwVHBqanFWc1AxclhXUXVfdndWT0hIdE5rZFlvQSIsInkiOiI4QlFBc0ltR2VBUzQ2ZnlXdzVNaFlmR1RUMElqQnBGdzJTUzM0RHY0SXJzIn0sImVuYyI6IkExMjhDQkMtSFMyNTYifQ" +
      "..yc9N8v5sYyv3iGQT926IUg" +
      ".BoDlwPnTypYq-ivjmQvAYJLb5Q6l-F3LIgQomlz87yW4OPKbWE1zSTEFjDfhU9IPIOSA9Bml4m7iDFwA-1ZXvHteLDtw4R1XRGMEsDIqAYtskTTmzmzNa-_q4F_evAPUmwlO-ZG45Mnq4uhM1fm_D9rBtWolqZSF3xGNNkpOMQKF1Cl8i8wjzRli7-IXgyirlKQsbhhqRzkv8IcY6aHl24j03C-AR2le1r7URUhArM79BY8soZU0lzwI-sD5PZ3l4NDCCei9XkoIAfsXJWmySPoeRb2Ni5UZL4mYpvKDiwmyzGd65KqVw7MsFfI_K767G9C9Azp73gKZD0DyUn1mn0WW5LmyX_yJ-3AROq8p1WZBfG-ZyJ6195_JGG2m9Csg" +
      ".WCCkNa-x4BeB9hIDIfFuhg";
    const [h, , i, c, t] = jwe.split(".") as [string, string, string, string, string];
    expect(parseProtectedHeader(h)["epk"]).toEqual(ephemeral);
    const [ivBytes, cipherBytes] = [fromBase64url(i, "iv"), fromBase64url(c, "ciphertext")];
    const aadBits = Buffer.alloc(8);
    aadBits.writeBigUInt64BE(BigInt(h.length * 8));
    const mac = createHmac("sha256", opening.subarray(0, 16))
      .update(Buffer.concat([Buffer.from(h, "ascii"), ivBytes, cipherBytes, aadBits]))
      .digest()
      .subarray(0, 16);
    expect(timingSafeEqual(mac, fromBase64url(t, "tag"))).toBe(true);
    const decipher = createDecipheriv("aes-128-cbc", opening.subarray(16), ivBytes);
    expect(Buffer.concat([decipher.update(cipherBytes), decipher.final()]).toString("utf8")).toBe(FRODO);
  });

  it("derives RFC 7518 Appendix C's key with the Concat KDF on P-256", () => {
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
    const bob = {
      kty: "EC",
      crv: "P-256",
      x: "weNJy2HscCSM6AEDTDg04biOvhFhyyWvOHQfeF_PxMQ",
      y: "e8lnCO-AlStT-NJVX-crhB7QRYhiix03illJOVAOyck",
    };
    const z = ecdhSecret(alice, "P-256", ecPoint(bob, "P-256"));
    expect(b64(concatKdf(z, "A128GCM", Buffer.from("Alice"), Buffer.from("Bob"), 128))).toBe("VqqN6vgjbSBcIijNcacQGg");
  });

  it("wraps and unwraps RFC 3394 §4.6 (256-bit key data under a 256-bit KEK), and refuses a changed wrap", () => {
    const kek = Buffer.from("000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F", "hex");
    const data = Buffer.from("00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F", "hex");
    const wrapped = "28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21";
    expect(aesKeyWrap(kek, data).toString("hex").toUpperCase()).toBe(wrapped);
    expect(aesKeyUnwrap(kek, Buffer.from(wrapped, "hex")).equals(data)).toBe(true);
    const changed = Buffer.from(wrapped, "hex");
    changed[0]! ^= 1;
    expect(() => aesKeyUnwrap(kek, changed)).toThrow();
  });
});

describe("ES256 against jose, both ways", () => {
  const payload = '{"amount":35000,"currency":"KRW"}';

  it("jose verifies what signCompact signs (header as jose writes it), and verifyCompact what jose signs", async () => {
    const { privateKey, publicKey } = p256Pair();
    const header = { typ: JOSE_TYPES.pinStatement, kid: "k1", "mpay-cert": "x.y.z" };
    const ours = signCompact(payload, privateKey, header);
    const theirs = await compactVerify(ours, publicKey, { algorithms: ["ES256"] });
    expect(theirs.protectedHeader).toEqual({ alg: "ES256", ...header });
    expect(text(theirs.payload)).toBe(payload);
    // The same header bytes as jose's CompactSign with the same header (the issuer reads what jose wrote before).
    const byJose = await new CompactSign(Buffer.from(payload))
      .setProtectedHeader({ alg: "ES256", ...header })
      .sign(privateKey);
    expect(ours.split(".").slice(0, 2)).toEqual(byJose.split(".").slice(0, 2));
    const verified = verifyCompact(byJose, publicKey, JOSE_TYPES.pinStatement);
    expect(text(verified.payload)).toBe(payload);
    expect(verified.header).toEqual((await compactVerify(byJose, publicKey)).protectedHeader);
    // jose-policy.ts's signWith (the wallet's path) too, with a WebCrypto key.
    const device = await generateKeyPair("ES256", { extractable: true });
    const byWallet = await signWith(Buffer.from(payload), device.privateKey, { typ: APPROVAL, kid: "d" });
    const deviceKey = p256PublicKey(
      (await exportJWK(device.publicKey)) as { kty: string; crv: string; x: string; y: string },
    );
    expect(text(verifyCompact(byWallet, deviceKey, APPROVAL).payload)).toBe(payload);
    await expect(verifyWith(ours, publicKey, JOSE_TYPES.pinStatement)).resolves.toBeTruthy();
  });

  it("refuses what jose-policy.ts refuses, with the same code", async () => {
    const { privateKey, publicKey } = p256Pair();
    const typ = JOSE_TYPES.payment;
    const jws = signCompact('{"a":1}', privateKey, { typ, kid: "k" });
    const [h, p, s] = jws.split(".") as [string, string, string];
    const headerOf = (header: object) => b64(JSON.stringify(header));
    const signed = (header: object) => {
      const input = `${headerOf(header)}.${p}`;
      return `${input}.${b64(sign("sha256", Buffer.from(input), { key: privateKey, dsaEncoding: "ieee-p1363" }))}`;
    };
    // HS256 keyed with the public key's bytes: the algorithm confusion a verifier that trusts `alg` falls for.
    const spki = publicKey.export({ format: "der", type: "spki" });
    const hs256 = await new CompactSign(Buffer.from("{}")).setProtectedHeader({ alg: "HS256", typ }).sign(spki);
    const cases: Array<[string, string, string]> = [
      ["signature changed", `${h}.${p}.${s.startsWith("A") ? "B" : "A"}${s.slice(1)}`, "jose_invalid"],
      ["payload changed", `${h}.${b64('{"a":2}')}.${s}`, "jose_invalid"],
      ["signature cut", `${h}.${p}.${s.slice(0, 40)}`, "jose_invalid"],
      ["DER signature", `${h}.${p}.${b64(sign("sha256", Buffer.from(`${h}.${p}`), privateKey))}`, "jose_invalid"],
      ["none", `${headerOf({ alg: "none", typ })}.${p}.`, "jose_algorithm_refused"],
      ["HS256 with the public key", hs256, "jose_algorithm_refused"],
      ["ES384", signed({ alg: "ES384", typ }), "jose_algorithm_refused"],
      ["another typ", signed({ alg: "ES256", typ: APPROVAL }), "jose_type_mismatch"],
      ["no typ", signed({ alg: "ES256" }), "jose_type_mismatch"],
      ["crit", signed({ alg: "ES256", typ, crit: ["exp"], exp: 1 }), "jose_invalid"],
      ["b64 false", signed({ alg: "ES256", typ, b64: false, crit: ["b64"] }), "jose_invalid"],
      ["four parts", `${jws}.x`, "jose_invalid"],
      ["header an array", `${b64("[1]")}.${p}.${s}`, "jose_invalid"],
    ];
    for (const [what, bad, code] of cases) {
      const theirs = await outcomeOf(verifyWith(bad, publicKey, typ));
      expect({ what, ours: outcome(() => verifyCompact(bad, publicKey, typ)), theirs }).toEqual({
        what,
        ours: code,
        theirs: code,
      });
    }
    const other = p256Pair().publicKey;
    expect(outcome(() => verifyCompact(jws, other, typ))).toBe("jose_invalid");
    await expect(outcomeOf(verifyWith(jws, other, typ))).resolves.toBe("jose_invalid");
  });

  it("is stricter than jose on encodings: non-canonical base64url and b64 without crit", async () => {
    const { privateKey, publicKey } = p256Pair();
    const typ = JOSE_TYPES.payment;
    const jws = signCompact("{}", privateKey, { typ });
    const [h, p, s] = jws.split(".") as [string, string, string];
    // 64 bytes end in 4 unused bits: setting one gives another text for the same signature.
    const last = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const noncanonical = `${h}.${p}.${s.slice(0, -1)}${last[last.indexOf(s.slice(-1)) + 1]}`;
    expect(outcome(() => verifyCompact(noncanonical, publicKey, typ))).toBe("jose_invalid");
    const input = `${b64(JSON.stringify({ alg: "ES256", typ, b64: false }))}.${p}`;
    const b64WithoutCrit = `${input}.${b64(sign("sha256", Buffer.from(input), { key: privateKey, dsaEncoding: "ieee-p1363" }))}`;
    expect(outcome(() => verifyCompact(b64WithoutCrit, publicKey, typ))).toBe("jose_invalid");
    await expect(compactVerify(b64WithoutCrit, publicKey)).resolves.toBeTruthy();
  });

  it("signs and verifies only with P-256 keys of the right kind", () => {
    const p384 = generateKeyPairSync("ec", { namedCurve: "P-384" });
    const p256 = p256Pair();
    expect(() => signCompact("{}", p384.privateKey, { typ: "t" })).toThrow(TypeError);
    expect(() => signCompact("{}", p256.privateKey, { typ: "t", alg: "HS256" })).toThrow(TypeError);
    const jws = signCompact("{}", p256.privateKey, { typ: "t" });
    expect(outcome(() => verifyCompact(jws, p384.publicKey, "t"))).toBe("jose_invalid");
    expect(outcome(() => verifyCompact(jws, p256.privateKey, "t"))).toBe("jose_invalid");
    expect(compactHeader(jws)).toEqual({ alg: "ES256", typ: "t" });
    expect(outcome(() => compactHeader("e30"))).toBe("jose_invalid");
    expect(outcome(() => compactHeader(`${b64('"x"')}.e30.AA`))).toBe("jose_invalid");
  });
});

describe("ECDH-ES+A256KW / A256GCM against jose, both ways", () => {
  const plaintext = Buffer.from(JSON.stringify({ jws: "x".repeat(600) }));
  const typ = JOSE_TYPES.paymentEnvelope;

  it("jose opens what encryptCompact makes, to a KeyObject and to a one-time JWK, with jose's header", async () => {
    const recipient = p256Pair();
    const jwe = encryptCompact(plaintext, recipient.publicKey, { typ, kid: "issuer-1" });
    const opened = await decryptFrom(jwe, recipient.privateKey, typ);
    expect(Buffer.from(opened.plaintext).equals(plaintext)).toBe(true);
    const byJose = await encryptTo(plaintext, recipient.publicKey, { typ, kid: "issuer-1" });
    const keys = (header: Record<string, unknown>) => [Object.keys(header), Object.keys(header["epk"] as object)];
    expect(keys(compactHeader(jwe))).toEqual(keys(compactHeader(byJose)));

    const oneTime = await generateKeyPair("ECDH-ES+A256KW", { crv: "P-256", extractable: true });
    const jwk = (await exportJWK(oneTime.publicKey)) as { kty: string; crv: string; x: string; y: string };
    const release = encryptCompact(plaintext, jwk, { typ: JOSE_TYPES.release });
    const released = await compactDecrypt(release, oneTime.privateKey);
    expect(Buffer.from(released.plaintext).equals(plaintext)).toBe(true);
    expect(released.protectedHeader).toMatchObject({ alg: "ECDH-ES+A256KW", enc: "A256GCM", typ: JOSE_TYPES.release });
  });

  it("opens what jose encrypts (jose-policy.ts encryptTo), with the same header as decryptFrom", async () => {
    const recipient = p256Pair();
    const jwe = await encryptTo(plaintext, recipient.publicKey, { typ, kid: "issuer-1" });
    const ours = decryptCompact(jwe, recipient.privateKey, typ);
    expect(ours.plaintext.equals(plaintext)).toBe(true);
    expect(ours.header).toEqual((await decryptFrom(jwe, recipient.privateKey, typ)).header);
  });

  it("refuses every JWE that jose-policy.ts refuses, with the same code", async () => {
    const recipient = p256Pair();
    const jwe = await encryptTo(plaintext, recipient.publicKey, { typ });
    const parts = jwe.split(".");
    const flip = (i: number) =>
      parts.map((p, j) => (j === i ? `${p.startsWith("A") ? "B" : "A"}${p.slice(1)}` : p)).join(".");
    const headerWith = (extra: Record<string, unknown>) =>
      [b64(JSON.stringify({ ...compactHeader(jwe), ...extra })), ...parts.slice(1)].join(".");
    const epk = compactHeader(jwe)["epk"] as { x: string; y: string };
    const y = Buffer.from(epk.y, "base64url");
    y[31]! ^= 1;
    const p384 = generateKeyPairSync("ec", { namedCurve: "P-384" });
    const dir = await new CompactEncrypt(plaintext)
      .setProtectedHeader({ alg: "ECDH-ES", enc: "A256GCM", typ })
      .encrypt(recipient.publicKey);
    const a128 = await new CompactEncrypt(plaintext)
      .setProtectedHeader({ alg: "ECDH-ES+A128KW", enc: "A256GCM", typ })
      .encrypt(recipient.publicKey);
    const cbc = await new CompactEncrypt(plaintext)
      .setProtectedHeader({ alg: "ECDH-ES+A256KW", enc: "A256CBC-HS512", typ })
      .encrypt(recipient.publicKey);
    const cases: Array<[string, string, string]> = [
      ["tag changed", flip(4), "jose_invalid"],
      ["ciphertext changed", flip(3), "jose_invalid"],
      ["iv changed", flip(2), "jose_invalid"],
      ["wrapped key changed", flip(1), "jose_invalid"],
      ["tag cut to 8 bytes", [...parts.slice(0, 4), parts[4]!.slice(0, 11)].join("."), "jose_invalid"],
      ["header changed (AAD)", headerWith({ kid: "someone" }), "jose_invalid"],
      ["epk off the curve", headerWith({ epk: { ...epk, y: b64(y) } }), "jose_invalid"],
      ["epk on P-384", headerWith({ epk: { ...(compactHeader(jwe)["epk"] as object), crv: "P-384" } }), "jose_invalid"],
      ["no epk", headerWith({ epk: undefined }), "jose_invalid"],
      ["another typ", headerWith({ typ: JOSE_TYPES.enrollment }), "jose_type_mismatch"],
      ["crit", headerWith({ crit: ["exp"], exp: 1 }), "jose_invalid"],
      ["zip", headerWith({ zip: "DEF" }), "jose_invalid"],
      ["direct key agreement", dir, "jose_algorithm_refused"],
      ["A128KW", a128, "jose_algorithm_refused"],
      ["A256CBC-HS512", cbc, "jose_algorithm_refused"],
      ["four parts", parts.slice(0, 4).join("."), "jose_invalid"],
    ];
    for (const [what, bad, code] of cases) {
      const theirs = await outcomeOf(decryptFrom(bad, recipient.privateKey, typ));
      const ours = outcome(() => decryptCompact(bad, recipient.privateKey, typ));
      expect({ what, ours, theirs }).toEqual({ what, ours: code, theirs: code });
    }
    const other = p256Pair();
    expect(outcome(() => decryptCompact(jwe, other.privateKey, typ))).toBe("jose_invalid");
    await expect(outcomeOf(decryptFrom(jwe, other.privateKey, typ))).resolves.toBe("jose_invalid");
    // A P-384 recipient key never opens (nor meets) a P-256 JWE.
    expect(outcome(() => decryptCompact(jwe, p384.privateKey, typ))).toBe("jose_invalid");
  });

  it("refuses a content key of the wrong size even when it unwraps, and an epk with a private member", () => {
    const recipient = p256Pair();
    const jwe = encryptCompact(plaintext, recipient.publicKey, { typ });
    const [h, , i, c, t] = jwe.split(".") as [string, string, string, string, string];
    const epk = compactHeader(jwe)["epk"] as { x: string; y: string };
    const z = ecdhSecret(recipient.privateKey, "P-256", ecPoint({ kty: "EC", crv: "P-256", ...epk }, "P-256"));
    const kek = concatKdf(z, "ECDH-ES+A256KW", new Uint8Array(0), new Uint8Array(0), 256);
    const short = `${h}.${b64(aesKeyWrap(kek, Buffer.alloc(16, 1)))}.${i}.${c}.${t}`;
    expect(outcome(() => decryptCompact(short, recipient.privateKey, typ))).toBe("jose_invalid");
    const withD = { ...compactHeader(jwe), epk: { ...(compactHeader(jwe)["epk"] as object), d: "AA" } };
    expect(
      outcome(() =>
        decryptCompact(`${b64(JSON.stringify(withD))}.${jwe.split(".").slice(1).join(".")}`, recipient.privateKey, typ),
      ),
    ).toBe("jose_invalid");
  });
});

describe("P-256 public keys from JWKs", () => {
  const { publicKey } = p256Pair();
  const jwk = publicKey.export({ format: "jwk" }) as { kty: string; crv: string; x: string; y: string };

  it("takes a canonical point and refuses a non-canonical, out-of-range, off-curve or wrong-length one", () => {
    expect(p256PublicKey(jwk).equals(publicKey)).toBe(true);
    const y = Buffer.from(jwk.y, "base64url");
    y[31]! ^= 1;
    const prime = Buffer.from("ffffffff00000001000000000000000000000000ffffffffffffffffffffffff", "hex");
    const last = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const bad: Array<[string, object]> = [
      ["off the curve", { ...jwk, y: b64(y) }],
      ["x = p", { ...jwk, x: b64(prime) }],
      ["x non-canonical", { ...jwk, x: `${jwk.x.slice(0, -1)}${last[last.indexOf(jwk.x.slice(-1)) ^ 1]}` }],
      ["x padded", { ...jwk, x: `${jwk.x}=` }],
      ["x 31 bytes", { ...jwk, x: b64(Buffer.from(jwk.x, "base64url").subarray(1)) }],
      ["P-384", { ...jwk, crv: "P-384" }],
      ["private", { ...jwk, d: jwk.x }],
    ];
    for (const [what, key] of bad)
      expect({ what, outcome: outcome(() => p256PublicKey(key as typeof jwk)) }).toEqual({
        what,
        outcome: "jose_invalid",
      });
    expect(outcome(() => encryptCompact(plaintextOf("x"), { ...jwk, y: b64(y) }, { typ: "t" }))).toBe("jose_invalid");
  });
});

function plaintextOf(value: string): Uint8Array {
  return Buffer.from(value);
}
