/**
 * An issuer's own keys, and only its own: its network certificate, the encryption private key the certificate
 * vouches for, and its card verification key. No root key is ever read here (the certify script alone holds them).
 * The certificate is checked against the key, so a host never serves a certificate for a key it cannot use.
 */
import { KeyObject } from "node:crypto";
import { readFile } from "node:fs/promises";
import { importJWK, type JWK } from "jose";
import { issuerCertificateSchema, type IssuerCertificate } from "@mpay/protocol";
import type { IssuerKeyFiles } from "../config.ts";

export interface IssuerKeys {
  /** The certificate as the network signed it (compact JWS), served to wallets as is. */
  readonly certificateJws: string;
  /** Its content: the issuer's name and BIN ranges come from here. */
  readonly certificate: IssuerCertificate;
  /** Decrypts what wallets encrypt to this issuer (ECDH-ES+A256KW). */
  readonly encryptionKey: CryptoKey;
  /** The same key as a node:crypto KeyObject, parsed once: the payment path opens JWEs with it (@mpay/crypto/node). */
  readonly encryptionKeyObject: KeyObject;
  /** 32 bytes; CVCs are recomputed under it (keys/cvc.ts). */
  readonly cardVerificationKey: Uint8Array;
}

async function readText(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch {
    throw new Error(`cannot read the ${what} at ${file}`);
  }
}

async function readJwk(file: string, what: string): Promise<JWK> {
  try {
    return JSON.parse(await readText(file, what)) as JWK;
  } catch (error) {
    if (error instanceof SyntaxError) throw new Error(`the ${what} at ${file} is not JSON`);
    throw error;
  }
}

/** The payload of a compact JWS, unverified: the host's own certificate file, checked against its key instead. */
function certificateContent(jws: string, file: string): IssuerCertificate {
  const payload = jws.split(".")[1];
  try {
    return issuerCertificateSchema.parse(JSON.parse(Buffer.from(payload ?? "", "base64url").toString("utf8")));
  } catch {
    throw new Error(`the issuer certificate at ${file} is not a certificate JWS`);
  }
}

export async function loadIssuerKeys(issuerId: string, files: IssuerKeyFiles): Promise<IssuerKeys> {
  const certificateJws = (await readText(files.certificate, "issuer certificate")).trim();
  const certificate = certificateContent(certificateJws, files.certificate);
  if (certificate.issuerId !== issuerId)
    throw new Error(`the certificate at ${files.certificate} is for ${certificate.issuerId}, not ${issuerId}`);

  const privateJwk = await readJwk(files.encryptionKey, "encryption key");
  if (privateJwk.kty !== "EC" || privateJwk.crv !== "P-256" || typeof privateJwk.d !== "string") {
    throw new Error(`the encryption key at ${files.encryptionKey} is not an EC P-256 private key`);
  }
  if (privateJwk.x !== certificate.jwk.x || privateJwk.y !== certificate.jwk.y) {
    throw new Error(
      `the encryption key at ${files.encryptionKey} is not the key of the certificate at ${files.certificate}`,
    );
  }
  const { kty, crv, x, y, d } = privateJwk;
  const encryptionKey = (await importJWK({ kty, crv, x, y, d }, "ECDH-ES+A256KW")) as CryptoKey;

  const cvkJwk = await readJwk(files.cardVerificationKey, "card verification key");
  const cardVerificationKey =
    typeof cvkJwk.k === "string" ? new Uint8Array(Buffer.from(cvkJwk.k, "base64url")) : new Uint8Array();
  if (cvkJwk.kty !== "oct" || cardVerificationKey.length !== 32) {
    throw new Error(`the card verification key at ${files.cardVerificationKey} is not a 32-byte oct JWK`);
  }
  const encryptionKeyObject = KeyObject.from(encryptionKey);
  return { certificateJws, certificate, encryptionKey, encryptionKeyObject, cardVerificationKey };
}
