/**
 * `mpay statement-key show|install|rotate`, as an operator runs them (docs/network.md): show prints the public key
 * to send to the card network, install takes the network's certificate on stdin or from a file, and bad input is a
 * clear error with a stable code that installs nothing. No private key is ever printed.
 */
import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from "jose";
import { signStatementKeyCertificate } from "@mpay/crypto";
import type { StatementKeyStatus } from "../../issuers/statement-signer.ts";
import { freshDatabase, testBackends, type FreshDatabase } from "../../testing/databases.ts";

const MPAY = fileURLToPath(new URL("../../../../../scripts/mpay.mjs", import.meta.url));

describe.each(testBackends())("mpay statement-key [%s]", (backend) => {
  let dir: string;
  let database: FreshDatabase;
  const mpay = (args: string[], input?: string) => {
    const result = spawnSync(process.execPath, [MPAY, ...args], {
      env: {
        PATH: process.env["PATH"] ?? "",
        MPAY_DATA_DIR: dir,
        ...(database.url ? { DATABASE_URL: database.url } : {}),
      },
      encoding: "utf8",
      timeout: 60_000,
      ...(input !== undefined ? { input } : {}),
    });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "mpay-statement-key-"));
    database = await freshDatabase(backend);
  });
  afterAll(async () => {
    await database.drop();
    await rm(dir, { recursive: true, force: true });
  });

  // Five CLI processes, each opening the database (a PGlite start is 2-5 s on a busy machine).
  it("shows the key to certify, installs the network's certificate, and rotates", { timeout: 180_000 }, async () => {
    const shown = mpay(["statement-key", "show", "--json"]);
    expect(shown.code, shown.stderr).toBe(1); // no certificate yet: PIN payments cannot be vouched for
    const status = JSON.parse(shown.stdout) as StatementKeyStatus;
    expect(status.signingKid).toBeNull();
    const key = status.keys[0]!;
    expect(Object.keys(key.jwk).sort()).toEqual(["crv", "kty", "x", "y"]);

    const root = await generateKeyPair("ES256");
    const rootJwk = await exportJWK(root.publicKey);
    const rootKid = await calculateJwkThumbprint(rootJwk);
    const now = Math.floor(Date.now() / 1000);
    const certificate = await signStatementKeyCertificate(
      { acquirerId: "mpay", jwk: key.jwk, kid: key.kid, nbf: now - 60, exp: now + 86400 },
      root.privateKey,
      rootKid,
    );
    const installed = mpay(["statement-key", "install", "--json"], `${certificate}\n`);
    expect(installed.code, installed.stderr).toBe(0);
    expect(JSON.parse(installed.stdout)).toMatchObject({
      installed: { kid: key.kid, acquirerId: "mpay" },
      signingKid: key.kid,
    });

    const rotated = mpay(["statement-key", "rotate", "--json"]);
    expect(rotated.code, rotated.stderr).toBe(0);
    const next = (
      JSON.parse(rotated.stdout) as {
        rotated: { kid: string; jwk: { kty: "EC"; crv: "P-256"; x: string; y: string } };
        signingKid: string;
      }
    ).rotated;
    expect(JSON.parse(rotated.stdout).signingKid).toBe(key.kid);
    const file = join(dir, "next.jws");
    await writeFile(
      file,
      await signStatementKeyCertificate(
        { acquirerId: "mpay", jwk: next.jwk, kid: next.kid, nbf: now - 60, exp: now + 86400 },
        root.privateKey,
        rootKid,
      ),
    );
    expect(mpay(["statement-key", "install", file]).code).toBe(0);
    const after = mpay(["statement-key", "show"]);
    expect(after.code).toBe(0);
    expect(after.stdout).toContain(`key 2 ${next.kid}  ← signs PIN statements`);
    expect(after.stdout).toMatch(/key 1 .*\n.*public key.*\n.*certificate for mpay/);
    for (const output of [shown, installed, rotated, after])
      expect(output.stdout + output.stderr).not.toMatch(/"d"\s*:/);
  });

  it("refuses what is not a certificate of its own key, with a stable code, and installs nothing", {
    timeout: 120_000,
  }, async () => {
    const before = JSON.parse(mpay(["statement-key", "show", "--json"]).stdout) as StatementKeyStatus;
    const junk = mpay(["statement-key", "install"], "eyJhbGciOiJFUzI1NiJ9.e30.c2ln\n");
    expect(junk.code).toBe(1);
    expect(junk.stderr).toMatch(/^mpay: statement_key_certificate_invalid: /m);
    const after = JSON.parse(mpay(["statement-key", "show", "--json"]).stdout) as StatementKeyStatus;
    expect(after.keys.map((k) => k.certificates.length)).toEqual(before.keys.map((k) => k.certificates.length));
  });
});
