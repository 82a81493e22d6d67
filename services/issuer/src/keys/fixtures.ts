/**
 * Where the test network's fixtures live (services/issuer/fixtures). Committed on purpose: they are test-network
 * keys, worthless outside this repository. The root private keys are read by the certify script only; an issuer
 * process reads its own certificate, encryption key and card verification key, and nothing of the roots.
 */
import { fileURLToPath } from "node:url";
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
