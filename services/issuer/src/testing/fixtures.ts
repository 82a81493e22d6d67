/**
 * Tests only (and the certify script): the test card network's committed fixtures (services/issuer/fixtures). They
 * are test-network keys, worthless outside this repository, and nothing outside tests uses them: the issuer host
 * has no default that points here (its key files default to its own data folder, where `npm start` puts the demo
 * network's), so every test names them itself, through the helpers below. The root private keys are read by the
 * certify script, and by tests that need a certificate of their own (a pay server's statement key).
 */
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { importJWK, type JWK } from "jose";
import type { IssuerHostConfig, IssuerKeyFiles } from "../config.ts";
import { issuerVariable } from "../config.ts";
import type { TestRootId } from "../definitions.ts";

export const FIXTURES_DIR = fileURLToPath(new URL("../../fixtures", import.meta.url));

/** The test network's root public keys as a roots file (ISSUER_NETWORK_ROOTS_FILE); the same as TEST_NETWORK_ROOTS. */
export const TEST_ROOTS_FILE = join(FIXTURES_DIR, "network", "test-roots.json");

export function rootKeyFile(root: TestRootId, dir: string = FIXTURES_DIR): string {
  return join(dir, "network", `${root}.private.jwk.json`);
}

export function certificateFile(issuerId: string, dir: string = FIXTURES_DIR): string {
  return join(dir, "issuers", issuerId, "certificate.jws");
}

export function encryptionKeyFile(issuerId: string, dir: string = FIXTURES_DIR): string {
  return join(dir, "issuers", issuerId, "encryption-key.private.jwk.json");
}

/** In the committed fixtures the same file as testCardVerificationKeyFile (cards/test-card-key.ts). */
export function cardVerificationKeyFile(issuerId: string, dir: string = FIXTURES_DIR): string {
  return join(dir, "issuers", issuerId, "card-verification-key.private.jwk.json");
}

export function fixtureKeyFiles(issuerId: string): IssuerKeyFiles {
  return {
    certificate: certificateFile(issuerId),
    encryptionKey: encryptionKeyFile(issuerId),
    cardVerificationKey: cardVerificationKeyFile(issuerId),
  };
}

/** What a test host needs on top of loadConfig: the fixture issuers `ids` and the test roots. */
export function fixtureHostConfig(ids: readonly string[]): Pick<IssuerHostConfig, "issuers" | "networkRootsFile"> {
  return { issuers: ids.map((id) => ({ id, files: fixtureKeyFiles(id) })), networkRootsFile: TEST_ROOTS_FILE };
}

/** The same for an issuer-host process: its environment variables. */
export function fixtureIssuerEnv(ids: readonly string[]): Record<string, string> {
  const env: Record<string, string> = { ISSUER_IDS: ids.join(","), ISSUER_NETWORK_ROOTS_FILE: TEST_ROOTS_FILE };
  for (const id of ids) {
    const files = fixtureKeyFiles(id);
    env[issuerVariable(id, "CERTIFICATE_FILE")] = files.certificate;
    env[issuerVariable(id, "ENCRYPTION_KEY_FILE")] = files.encryptionKey;
    env[issuerVariable(id, "CVK_FILE")] = files.cardVerificationKey;
  }
  return env;
}

/** A committed test root's private key, to certify what a test needs (a pay server's statement key). */
export async function testRootSigner(
  root: TestRootId = "test-root-a",
  dir: string = FIXTURES_DIR,
): Promise<{ kid: string; privateKey: CryptoKey }> {
  const jwk = JSON.parse(await readFile(rootKeyFile(root, dir), "utf8")) as JWK;
  return { kid: String(jwk.kid), privateKey: (await importJWK(jwk, "ES256")) as CryptoKey };
}
