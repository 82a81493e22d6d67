/**
 * Where the test network's fixtures live (services/issuer/fixtures). Committed on purpose: they are test-network
 * keys, worthless outside this repository. The root private keys are read by the certify script only; an issuer
 * process reads its own certificate, encryption key and card verification key, and nothing of the roots.
 */
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { importJWK, type JWK } from "jose";
import { join } from "node:path";
import type { TestRootId } from "../definitions.ts";

export const FIXTURES_DIR = fileURLToPath(new URL("../../fixtures", import.meta.url));

export function rootKeyFile(root: TestRootId, dir: string = FIXTURES_DIR): string {
  return join(dir, "network", `${root}.private.jwk.json`);
}

export function certificateFile(issuerId: string, dir: string = FIXTURES_DIR): string {
  return join(dir, "issuers", issuerId, "certificate.jws");
}

export function encryptionKeyFile(issuerId: string, dir: string = FIXTURES_DIR): string {
  return join(dir, "issuers", issuerId, "encryption-key.private.jwk.json");
}

export function cardVerificationKeyFile(issuerId: string, dir: string = FIXTURES_DIR): string {
  return join(dir, "issuers", issuerId, "card-verification-key.private.jwk.json");
}

/** Tests only: a committed test root's private key, to certify what a test needs (a pay server's statement key). */
export async function testRootSigner(root: TestRootId = "test-root-a", dir: string = FIXTURES_DIR): Promise<{ kid: string; privateKey: CryptoKey }> {
  const jwk = JSON.parse(await readFile(rootKeyFile(root, dir), "utf8")) as JWK;
  return { kid: String(jwk.kid), privateKey: (await importJWK(jwk, "ES256")) as CryptoKey };
}
