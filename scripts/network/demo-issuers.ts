/**
 * The demo issuers' keys and certificates, under the issuer host's own data folder where it looks by default
 * (`<issuer data dir>/<id>/keys/`): a fresh encryption key for each (made once), its certificate from the demo root
 * (renewed when it has under 30 days left, or when the root or key changed), and the card verification key of the
 * simulator's published test cards (cards/test-card-key.ts), so the documented CVCs work. The host's roots file
 * gets the demo root. Files that the environment points elsewhere are the operator's, and left alone.
 */
import { copyFile, readFile } from "node:fs/promises";
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from "jose";
import { signIssuerCertificate, verifyIssuerCertificate } from "@mpay/crypto";
import type { EcPublicJwk, IssuerCertificate } from "@mpay/protocol";
import {
  defaultKeyFiles,
  defaultNetworkRootsFile,
  type IssuerHostConfig,
  type IssuerKeyFiles,
} from "../../services/issuer/src/config.ts";
import { DEFAULT_ISSUER_IDS, defaultIssuer } from "../../services/issuer/src/definitions.ts";
import { testCardVerificationKeyFile } from "../../services/issuer/src/cards/test-card-key.ts";
import type { DemoRoot } from "./demo-root.ts";
import { keepPrivate, readJson, writePrivateJson, writePublic } from "./files.ts";

const DAY = 24 * 3600;
const VALID_FOR = 365 * DAY;
const RENEW_WITHIN = 30 * DAY;

export interface DemoIssuersReport {
  certified: string[];
  kept: string[];
  /** Issuers whose files the environment points elsewhere. */
  configuredElsewhere: string[];
  rootsFileWritten: boolean;
}

const sameFiles = (a: IssuerKeyFiles, b: IssuerKeyFiles) =>
  a.certificate === b.certificate &&
  a.encryptionKey === b.encryptionKey &&
  a.cardVerificationKey === b.cardVerificationKey;

async function encryptionKey(file: string): Promise<EcPublicJwk> {
  let jwk = (await readJson(file)) as Record<string, unknown> | undefined;
  if (jwk === undefined) {
    const { privateKey } = await generateKeyPair("ECDH-ES+A256KW", { crv: "P-256", extractable: true });
    const made = await exportJWK(privateKey);
    jwk = {
      ...made,
      kid: await calculateJwkThumbprint({ kty: "EC", crv: "P-256", x: made.x!, y: made.y! }),
      alg: "ECDH-ES+A256KW",
      use: "enc",
    };
    await writePrivateJson(file, jwk);
  } else {
    await keepPrivate(file);
  }
  if (
    jwk["kty"] !== "EC" ||
    jwk["crv"] !== "P-256" ||
    typeof jwk["x"] !== "string" ||
    typeof jwk["y"] !== "string" ||
    typeof jwk["d"] !== "string"
  ) {
    throw new Error(`${file} is not an EC P-256 private key; move it away and start again`);
  }
  return { kty: "EC", crv: "P-256", x: jwk["x"], y: jwk["y"] };
}

/** True when the certificate at `file` is the demo root's, for this key and definition, with time to spare. */
async function stillGood(
  file: string,
  demo: DemoRoot,
  expected: Omit<IssuerCertificate, "nbf" | "exp">,
  nowSeconds: number,
): Promise<boolean> {
  let jws: string;
  try {
    jws = (await readFile(file, "utf8")).trim();
  } catch {
    return false;
  }
  try {
    const certified = await verifyIssuerCertificate(jws, [demo.root], nowSeconds);
    return (
      certified.exp - nowSeconds > RENEW_WITHIN &&
      JSON.stringify({ ...certified, nbf: 0, exp: 0 }) === JSON.stringify({ ...expected, nbf: 0, exp: 0 })
    );
  } catch {
    return false;
  }
}

export async function certifyDemoIssuers(
  config: IssuerHostConfig,
  demo: DemoRoot,
  nowSeconds: number,
): Promise<DemoIssuersReport> {
  const report: DemoIssuersReport = { certified: [], kept: [], configuredElsewhere: [], rootsFileWritten: false };
  for (const { id, files } of config.issuers) {
    if (!sameFiles(files, defaultKeyFiles(config.dataDir, id))) {
      report.configuredElsewhere.push(id);
      continue;
    }
    const definition = defaultIssuer(id);
    if (!definition)
      throw new Error(
        `npm start certifies only its demo issuers (${DEFAULT_ISSUER_IDS.join(", ")}), not ${id}; give ${id} its certificate and keys with ISSUER_${id.toUpperCase()}_*_FILE`,
      );
    const jwk = await encryptionKey(files.encryptionKey);
    if ((await readJson(files.cardVerificationKey)) === undefined) {
      await copyFile(testCardVerificationKeyFile(id), files.cardVerificationKey);
      await keepPrivate(files.cardVerificationKey);
    }
    const expected = {
      issuerId: id,
      name: definition.name,
      binRanges: definition.binRanges.map(({ from, to }) => ({ from, to })),
      jwk,
      kid: await calculateJwkThumbprint(jwk),
    };
    if (await stillGood(files.certificate, demo, expected, nowSeconds)) {
      report.kept.push(id);
      continue;
    }
    const certificate = await signIssuerCertificate(
      { ...expected, nbf: nowSeconds - DAY, exp: nowSeconds + VALID_FOR },
      demo.signer.privateKey,
      demo.signer.kid,
    );
    await writePublic(files.certificate, certificate + "\n");
    report.certified.push(id);
  }
  if (config.networkRootsFile === defaultNetworkRootsFile(config.dataDir)) {
    await writePublic(config.networkRootsFile, JSON.stringify([demo.root], null, 2) + "\n");
    report.rootsFileWritten = true;
  }
  return report;
}
