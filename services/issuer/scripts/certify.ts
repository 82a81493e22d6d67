/**
 * Certifies the simulator's default issuers with the test card network's roots (DESIGN.md "Split custody", point
 * 4). Run from the repository root:
 *
 *   npx tsx services/issuer/scripts/certify.ts            # re-sign every certificate, keep every key
 *   npx tsx services/issuer/scripts/certify.ts --new-keys # also replace the issuers' encryption keys
 *
 * For each issuer of DEFAULT_ISSUERS it signs `{issuerId, name, binRanges, jwk, kid, nbf, exp}` with its root
 * (A or B) and writes `fixtures/issuers/<id>/certificate.jws`, making the issuer's encryption key
 * (ECDH-ES+A256KW on P-256) and card verification key first when they are missing. This script is the only
 * reader of the root private keys in `fixtures/network/`; it makes them only when missing, and then checks that
 * the public halves are the ones packages/wallet ships (TEST_NETWORK_ROOTS), printing the constants otherwise.
 * The card verification key is never replaced: the documented test cards' CVCs depend on it.
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { pathToFileURL } from "node:url";
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK } from "jose";
import { signIssuerCertificate, verifyIssuerCertificate, type NetworkRoot } from "@mpay/crypto";
import type { EcPublicJwk } from "@mpay/protocol";
import { TEST_NETWORK_ROOTS } from "@mpay/testing/network-roots";
import { DEFAULT_ISSUERS, TEST_ROOT_IDS, type TestRootId } from "../src/definitions.ts";
import {
  cardVerificationKeyFile,
  certificateFile,
  encryptionKeyFile,
  FIXTURES_DIR,
  rootKeyFile,
} from "../src/testing/fixtures.ts";

const YEARS_VALID = 10;
const ROOT_NAMES: Record<TestRootId, string> = {
  "test-root-a": "MPay Test Network Root A",
  "test-root-b": "MPay Test Network Root B",
};

export interface CertifyOptions {
  /** Where `network/` and `issuers/` are (the committed fixtures by default). */
  fixturesDir: string;
  /** The roots the wallet ships: certificates are made only when the root keys are among them. */
  trustedRoots: readonly NetworkRoot[];
  /** Replace the issuers' encryption keys too. */
  newKeys: boolean;
  /** Unix seconds. */
  now: number;
  say: (line: string) => void;
}

export type CertifyResult = { certified: string[] } | { untrustedRoots: NetworkRoot[] };

function publicPart(jwk: JWK): EcPublicJwk {
  if (jwk.kty !== "EC" || jwk.crv !== "P-256" || !jwk.x || !jwk.y) throw new Error("not an EC P-256 key");
  return { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y };
}

async function writeJson(file: string, value: unknown): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, JSON.stringify(value, null, 2) + "\n", { mode: 0o600 });
}

async function readJwk(file: string): Promise<JWK> {
  return JSON.parse(await readFile(file, "utf8")) as JWK;
}

/** A P-256 private JWK with its RFC 7638 thumbprint as `kid`, made for `alg`. */
async function makeKey(alg: "ES256" | "ECDH-ES+A256KW", use: "sig" | "enc"): Promise<JWK> {
  const { privateKey } = await generateKeyPair(alg, { crv: "P-256", extractable: true });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, kid: await calculateJwkThumbprint(publicPart(jwk)), alg, use };
}

async function keyFile(
  file: string,
  make: () => Promise<JWK | Record<string, string>>,
  replace: boolean,
  say: (line: string) => void,
  what: string,
): Promise<JWK> {
  if (existsSync(file) && !replace) return readJwk(file);
  const jwk = await make();
  await writeJson(file, jwk);
  say(`made ${what} in ${file}`);
  return jwk as JWK;
}

export async function certify(options: CertifyOptions): Promise<CertifyResult> {
  const { fixturesDir: dir, say } = options;
  const roots = new Map<TestRootId, { jwk: JWK; root: NetworkRoot }>();
  for (const id of TEST_ROOT_IDS) {
    const jwk = await keyFile(rootKeyFile(id, dir), () => makeKey("ES256", "sig"), false, say, id);
    roots.set(id, { jwk, root: { kid: String(jwk.kid), jwk: publicPart(jwk), name: ROOT_NAMES[id] } });
  }
  const all = [...roots.values()].map(({ root }) => root);
  if (
    !all.every((root) =>
      options.trustedRoots.some((r) => r.kid === root.kid && r.jwk.x === root.jwk.x && r.jwk.y === root.jwk.y),
    )
  ) {
    return { untrustedRoots: all };
  }
  const certified: string[] = [];
  for (const issuer of DEFAULT_ISSUERS) {
    const signer = roots.get(issuer.root)!;
    const key = await keyFile(
      encryptionKeyFile(issuer.id, dir),
      () => makeKey("ECDH-ES+A256KW", "enc"),
      options.newKeys,
      say,
      `the encryption key of ${issuer.id}`,
    );
    const cvk = () =>
      Promise.resolve({ kty: "oct", k: randomBytes(32).toString("base64url"), kid: `cvk-${issuer.id}-1`, use: "cvc" });
    await keyFile(
      cardVerificationKeyFile(issuer.id, dir),
      cvk,
      false,
      say,
      `the card verification key of ${issuer.id}`,
    );
    const certificate = {
      issuerId: issuer.id,
      name: issuer.name,
      binRanges: issuer.binRanges.map(({ from, to }) => ({ from, to })),
      jwk: publicPart(key),
      kid: String(key.kid),
      nbf: options.now - 24 * 3600,
      exp: options.now + YEARS_VALID * 365 * 24 * 3600,
    };
    const jws = await signIssuerCertificate(certificate, await importJWK(signer.jwk, "ES256"), String(signer.jwk.kid));
    await verifyIssuerCertificate(jws, options.trustedRoots, options.now);
    await mkdir(dirname(certificateFile(issuer.id, dir)), { recursive: true });
    await writeFile(certificateFile(issuer.id, dir), jws + "\n");
    say(
      `certified ${issuer.id} (${issuer.name}) with ${issuer.root} until ${new Date(certificate.exp * 1000).toISOString().slice(0, 10)}`,
    );
    certified.push(issuer.id);
  }
  return { certified };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const say = (line: string) => process.stdout.write(line + "\n");
  const result = await certify({
    fixturesDir: FIXTURES_DIR,
    trustedRoots: TEST_NETWORK_ROOTS,
    newKeys: process.argv.includes("--new-keys"),
    now: Math.floor(Date.now() / 1000),
    say,
  });
  if ("untrustedRoots" in result) {
    say(
      "\nThe wallet does not ship these roots. Put them in packages/wallet/src/testing/network-roots.ts and run again:\n",
    );
    say(JSON.stringify(result.untrustedRoots, null, 2));
    process.exit(1);
  }
}
