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
 */
import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { TEST_NETWORK_ROOTS } from "@mpay/wallet/testing";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
/** The test network's own tool, run by hand to re-sign the fixtures. */
const TEST_NETWORK_TOOL = "services/issuer/scripts/certify.ts";
/** Paths into the fixtures a product file may name: the published test cards' card verification key, nothing else. */
const ALLOWED_PATHS: Record<string, RegExp> = {
  "services/issuer/src/cards/test-card-key.ts": /^fixtures\/issuers\/\$\{issuerId\}\/card-verification-key\.private\.jwk\.json$/,
};

async function productFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!["node_modules", "testing", "fixtures", "migrations"].includes(entry.name)) found.push(...(await productFiles(path)));
    } else if (/\.(ts|mjs)$/.test(entry.name) && !/\.(test|case)\.ts$/.test(entry.name) && !/\.fixture\.ts$/.test(entry.name)) {
      found.push(path);
    }
  }
  return found;
}

/** The code of a file without its comments (a comment may name the testing entry to say where test roots are). */
const code = (source: string) => source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:])\/\/.*$/gm, "$1");

describe("the committed test network stays in tests", () => {
  it("is reached by no product code, service default, npm start or the demo", async () => {
    const roots = ["packages", "services", "scripts"].map((d) => join(ROOT, d));
    const files = (await Promise.all(roots.map(productFiles))).flat();
    expect(files.map((f) => relative(ROOT, f))).toEqual(expect.arrayContaining(["scripts/start.mjs", "scripts/demo-network.ts", "scripts/demo/payer.ts", "services/issuer/src/config.ts", "packages/wallet/src/wallet.ts"]));
    const testRootMaterial = TEST_NETWORK_ROOTS.flatMap((r) => [r.kid, r.jwk.x, r.jwk.y]);
    const offences: string[] = [];
    for (const file of files) {
      const name = relative(ROOT, file);
      if (name === TEST_NETWORK_TOOL) continue;
      const source = code(await readFile(file, "utf8"));
      const imports = [...source.matchAll(/(?:from|import)\s*\(?\s*["']([^"']+)["']/g)].map((m) => m[1] ?? "");
      for (const specifier of imports) if (/(^|\/)testing(\/|$)|@mpay\/[\w-]+\/testing/.test(specifier)) offences.push(`${name} imports ${specifier}`);
      for (const match of source.matchAll(/fixtures\/(network|issuers)[^"'`]*/g)) if (!ALLOWED_PATHS[name]?.test(match[0])) offences.push(`${name} names ${match[0]}`);
      for (const material of testRootMaterial) if (source.includes(material)) offences.push(`${name} holds a test root's key`);
      if (/\bTEST_NETWORK_ROOTS\b|\btestRootSigner\b|\bfixtureKeyFiles\b|\bfixtureIssuerEnv\b/.test(source)) offences.push(`${name} uses the test network`);
    }
    expect(offences).toEqual([]);
  });
});
