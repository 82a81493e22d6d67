import { describe, expect, it } from "vitest";
import { CompactEncrypt, CompactSign, generateKeyPair, generateSecret } from "jose";
import { decryptFrom, encryptTo, signWith, verifyWith } from "./jose-policy.ts";

const TYP = "mpay-payment+jwe";
const bytes = (s: string) => new TextEncoder().encode(s);

describe("the JOSE policy", async () => {
  const recipient = await generateKeyPair("ECDH-ES+A256KW", { crv: "P-256" });
  const signer = await generateKeyPair("ES256");

  it("round-trips ECDH-ES+A256KW / A256GCM with its typ", async () => {
    const jwe = await encryptTo(bytes("card"), recipient.publicKey, { typ: TYP, kid: "k1" });
    const { plaintext, header } = await decryptFrom(jwe, recipient.privateKey, TYP);
    expect(new TextDecoder().decode(plaintext)).toBe("card");
    expect(header).toMatchObject({ alg: "ECDH-ES+A256KW", enc: "A256GCM", kid: "k1" });
  });

  it("refuses dir, PBES2, RSA1_5, other content encryption and another typ", async () => {
    const dir = await new CompactEncrypt(bytes("x"))
      .setProtectedHeader({ alg: "dir", enc: "A256GCM", typ: TYP })
      .encrypt(await generateSecret("A256GCM"));
    await expect(decryptFrom(dir, recipient.privateKey, TYP)).rejects.toMatchObject({ code: "jose_algorithm_refused" });
    const pbes2 = await new CompactEncrypt(bytes("x"))
      .setProtectedHeader({ alg: "PBES2-HS256+A128KW", enc: "A256GCM", typ: TYP })
      .encrypt(bytes("password"));
    await expect(decryptFrom(pbes2, recipient.privateKey, TYP)).rejects.toMatchObject({
      code: "jose_algorithm_refused",
    });
    // jose no longer makes RSA1_5 JWEs: an RSA-OAEP one with its header relabelled is what an attacker would send.
    const rsa = await generateKeyPair("RSA-OAEP", { modulusLength: 2048 });
    const rsa15Header = Buffer.from(JSON.stringify({ alg: "RSA1_5", enc: "A256GCM", typ: TYP })).toString("base64url");
    const rsaJwe = await new CompactEncrypt(bytes("x"))
      .setProtectedHeader({ alg: "RSA-OAEP", enc: "A256GCM", typ: TYP })
      .encrypt(rsa.publicKey);
    const forgedHeader = [rsa15Header, ...rsaJwe.split(".").slice(1)].join(".");
    await expect(decryptFrom(forgedHeader, recipient.privateKey, TYP)).rejects.toMatchObject({
      code: "jose_algorithm_refused",
    });
    const cbc = await new CompactEncrypt(bytes("x"))
      .setProtectedHeader({ alg: "ECDH-ES+A256KW", enc: "A256CBC-HS512", typ: TYP })
      .encrypt(recipient.publicKey);
    await expect(decryptFrom(cbc, recipient.privateKey, TYP)).rejects.toMatchObject({ code: "jose_algorithm_refused" });
    const other = await encryptTo(bytes("x"), recipient.publicKey, { typ: "mpay-enrollment+jwe" });
    await expect(decryptFrom(other, recipient.privateKey, TYP)).rejects.toMatchObject({ code: "jose_type_mismatch" });
  });

  it("says nothing of why a JWE failed: a tampered one is just invalid", async () => {
    const jwe = await encryptTo(bytes("card"), recipient.publicKey, { typ: TYP });
    const parts = jwe.split(".");
    parts[3] = parts[3]!.slice(0, -2) + (parts[3]!.endsWith("AA") ? "BB" : "AA");
    await expect(decryptFrom(parts.join("."), recipient.privateKey, TYP)).rejects.toMatchObject({
      code: "jose_invalid",
      message: "the JWE could not be decrypted",
    });
  });

  it("verifies ES256 only, with its typ", async () => {
    const jws = await signWith(bytes("terms"), signer.privateKey, { typ: "mpay-payment+jws", kid: "d1" });
    expect(new TextDecoder().decode((await verifyWith(jws, signer.publicKey, "mpay-payment+jws")).payload)).toBe(
      "terms",
    );
    await expect(verifyWith(jws, signer.publicKey, "mpay-mandate+jws")).rejects.toMatchObject({
      code: "jose_type_mismatch",
    });
    const hs = await new CompactSign(bytes("terms"))
      .setProtectedHeader({ alg: "HS256", typ: "mpay-payment+jws" })
      .sign(bytes("k".repeat(32)));
    await expect(verifyWith(hs, signer.publicKey, "mpay-payment+jws")).rejects.toMatchObject({
      code: "jose_algorithm_refused",
    });
    const other = await generateKeyPair("ES256");
    await expect(verifyWith(jws, other.publicKey, "mpay-payment+jws")).rejects.toMatchObject({ code: "jose_invalid" });
  });
});
