/**
 * The demo card network's root, made on `npm start`'s first start (DESIGN.md "Split custody", point 4; issue 7,
 * hole 2): a P-256 key whose private half stays in `<network dir>/demo-root.private.jwk.json` (mode 0600) and is
 * used by this script alone, to certify the demo issuers' encryption keys and the pay server's PIN-statement key.
 * Its public half goes to `demo-roots.json`: the demo wallets trust it, and it alone; the issuer host trusts it for
 * PIN statements. No service reads the private key, and nothing here is ever a committed test key.
 */
import { join } from "node:path";
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK } from "jose";
import type { NetworkRoot } from "@mpay/crypto";
import { keepPrivate, readJson, writePrivateJson, writePublic } from "./files.ts";

export interface DemoRoot {
  root: NetworkRoot;
  signer: { kid: string; privateKey: CryptoKey };
  /** Made by this run (the first start). */
  created: boolean;
  privateKeyFile: string;
  rootsFile: string;
}

export const DEMO_ROOT_NAME = "MPay Demo Network Root (this machine only)";

export function demoRootsFile(networkDir: string): string {
  return join(networkDir, "demo-roots.json");
}

function isPrivateP256(value: unknown): value is JWK & { x: string; y: string; d: string } {
  const jwk = value as Record<string, unknown> | undefined;
  return (
    jwk?.["kty"] === "EC" &&
    jwk["crv"] === "P-256" &&
    typeof jwk["x"] === "string" &&
    typeof jwk["y"] === "string" &&
    typeof jwk["d"] === "string"
  );
}

export async function ensureDemoRoot(networkDir: string): Promise<DemoRoot> {
  const privateKeyFile = join(networkDir, "demo-root.private.jwk.json");
  let jwk = await readJson(privateKeyFile);
  const created = jwk === undefined;
  if (created) {
    const { privateKey } = await generateKeyPair("ES256", { extractable: true });
    jwk = await exportJWK(privateKey);
    await writePrivateJson(privateKeyFile, jwk);
  } else {
    await keepPrivate(privateKeyFile);
  }
  if (!isPrivateP256(jwk))
    throw new Error(`${privateKeyFile} is not an EC P-256 private key; move it away and start again`);
  const publicJwk = { kty: "EC" as const, crv: "P-256" as const, x: jwk.x, y: jwk.y };
  const kid = await calculateJwkThumbprint(publicJwk);
  const root: NetworkRoot = { kid, jwk: publicJwk, name: DEMO_ROOT_NAME };
  const rootsFile = demoRootsFile(networkDir);
  await writePublic(rootsFile, JSON.stringify([root], null, 2) + "\n");
  const privateKey = (await importJWK({ kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y, d: jwk.d }, "ES256")) as CryptoKey;
  return { root, signer: { kid, privateKey }, created, privateKeyFile, rootsFile };
}
