/**
 * Outside tests, nothing defaults to the committed test network (issue 7, hole 2): its roots' private keys and its
 * issuers' encryption keys are in the repository, so any product code, service default or script that reached for
 * them would let anyone mint "issuers" a wallet trusts or read what it encrypts. This reads every file that runs
 * outside tests — the packages, the services, their scripts, `npm start` and the demo — and fails on an import of a
 * testing entry or harness, a path into the test fixtures, or a test root's key.
 *
 * Allowed, each for a stated reason: the certify script (the test network's own tool, run by hand), and the card
 * verification key of the simulator's published test cards (services/issuer/src/cards/test-card-key.ts: the CVCs it
 * yields are printed in the READMEs, so it guards nothing).
 *
 * The test roots and every harness that crosses a service boundary live in @mpay/testing (packages/testing), which
 * no product package imports (issue 8). A second check keeps each package and service to its own source: the device
 * SDK links no server code, and the pay server reaches issuers and the messenger only over their protocols.
 */
import { readdir, readFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { TEST_NETWORK_ROOTS } from "@mpay/testing/network-roots";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
/** The packages that ship: their files outside tests and testing/ folders are product code. */
const PRODUCT_PACKAGES = ["crypto", "merchant", "protocol", "service-kit", "wallet"];
/** Test harnesses and the test roots: tests only, and the one package that may reach into the services' source. */
const TESTING_PACKAGE = "testing";
/** The test network's own tool, run by hand to re-sign the fixtures. */
const TEST_NETWORK_TOOL = "services/issuer/scripts/certify.ts";
/** Paths into the fixtures a product file may name: the published test cards' card verification key, nothing else. */
const ALLOWED_PATHS: Record<string, RegExp> = {
  "services/issuer/src/cards/test-card-key.ts":
    /^fixtures\/issuers\/\$\{issuerId\}\/card-verification-key\.private\.jwk\.json$/,
};

async function productFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!["node_modules", "testing", "fixtures", "migrations"].includes(entry.name))
        found.push(...(await productFiles(path)));
    } else if (
      /\.(ts|mjs)$/.test(entry.name) &&
      !/\.(test|case)\.ts$/.test(entry.name) &&
      !/\.fixture\.ts$/.test(entry.name)
    ) {
      found.push(path);
    }
  }
  return found;
}

/** Every code file under `dir`, tests and harnesses included. */
async function allCodeFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== "node_modules") found.push(...(await allCodeFiles(path)));
    } else if (/\.(ts|mjs)$/.test(entry.name)) {
      found.push(path);
    }
  }
  return found;
}

/** The workspace's packages and services, each the owner of its source. */
async function workspaceUnits(): Promise<string[]> {
  const units: string[] = [];
  for (const parent of ["packages", "services"]) {
    for (const entry of await readdir(join(ROOT, parent), { withFileTypes: true }))
      if (entry.isDirectory()) units.push(`${parent}/${entry.name}`);
  }
  return units;
}

/** The code of a file without its comments (a comment may name the testing entry to say where test roots are). */
const code = (source: string) => source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:])\/\/.*$/gm, "$1");

describe("the committed test network stays in tests", () => {
  it("is reached by no product code, service default, npm start or the demo", async () => {
    // Every package is named above as product or testing: a new one is classified before it can slip past this check.
    expect((await readdir(join(ROOT, "packages"))).sort()).toEqual([...PRODUCT_PACKAGES, TESTING_PACKAGE].sort());
    const roots = [...PRODUCT_PACKAGES.map((p) => `packages/${p}`), "services", "scripts"].map((d) => join(ROOT, d));
    const files = (await Promise.all(roots.map(productFiles))).flat();
    expect(files.map((f) => relative(ROOT, f))).toEqual(
      expect.arrayContaining([
        "scripts/start.mjs",
        "scripts/demo-network.ts",
        "scripts/demo/payer.ts",
        "services/issuer/src/config.ts",
        "packages/wallet/src/wallet.ts",
      ]),
    );
    const testRootMaterial = TEST_NETWORK_ROOTS.flatMap((r) => [r.kid, r.jwk.x, r.jwk.y]);
    const offences: string[] = [];
    for (const file of files) {
      const name = relative(ROOT, file);
      if (name === TEST_NETWORK_TOOL) continue;
      const source = code(await readFile(file, "utf8"));
      const imports = [...source.matchAll(/(?:from|import)\s*\(?\s*["']([^"']+)["']/g)].map((m) => m[1] ?? "");
      for (const specifier of imports)
        if (/(^|\/)testing(\/|$)|@mpay\/[\w-]+\/testing|^@mpay\/testing(\/|$)/.test(specifier))
          offences.push(`${name} imports ${specifier}`);
      for (const match of source.matchAll(/fixtures\/(network|issuers)[^"'`]*/g))
        if (!ALLOWED_PATHS[name]?.test(match[0])) offences.push(`${name} names ${match[0]}`);
      for (const material of testRootMaterial)
        if (source.includes(material)) offences.push(`${name} holds a test root's key`);
      if (/\bTEST_NETWORK_ROOTS\b|\btestRootSigner\b|\bfixtureKeyFiles\b|\bfixtureIssuerEnv\b/.test(source))
        offences.push(`${name} uses the test network`);
    }
    expect(offences).toEqual([]);
  });

  it("is the only package that reaches into another package's or service's source", async () => {
    const units = await workspaceUnits();
    expect(units).toEqual(
      expect.arrayContaining([
        `packages/${TESTING_PACKAGE}`,
        "packages/wallet",
        "services/pay",
        "services/issuer",
        "services/messenger",
      ]),
    );
    const services = units.filter((u) => u.startsWith("services/")).map((u) => u.slice("services/".length));
    const offences: string[] = [];
    let specifiers = 0;
    for (const unit of units.filter((u) => u !== `packages/${TESTING_PACKAGE}`)) {
      for (const file of await allCodeFiles(join(ROOT, unit))) {
        const name = relative(ROOT, file);
        const imports = [
          ...code(await readFile(file, "utf8")).matchAll(/(?:from|import)\s*\(?\s*["']([^"']+)["']/g),
        ].map((m) => m[1] ?? "");
        for (const specifier of imports) {
          specifiers++;
          if (specifier.startsWith(".")) {
            // A relative path stays in its own package or service (e2e/ and the repository's scripts/ belong to none).
            const target = relative(ROOT, resolve(dirname(file), specifier));
            const into = units.find((u) => target === u || target.startsWith(`${u}/`));
            if (into && into !== unit) offences.push(`${name} imports ${specifier} (source of ${into})`);
          } else {
            // A service is not a library: no package or other service imports it by name either.
            const service = services.find((s) => specifier === `@mpay/${s}` || specifier.startsWith(`@mpay/${s}/`));
            if (service && unit !== `services/${service}`) offences.push(`${name} imports ${specifier}`);
          }
        }
      }
    }
    expect(specifiers).toBeGreaterThan(1000);
    expect(offences).toEqual([]);
  });
});
