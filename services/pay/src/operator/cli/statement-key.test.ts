/**
 * `mpay statement-key show|install|rotate`, as an operator runs them (docs/network.md): show prints the public key
 * to send to the card network, install takes the network's certificate on stdin or from a file, and bad input is a
 * clear error with a stable code that installs nothing. No private key is ever printed.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from "jose";
import { signStatementKeyCertificate } from "@mpay/crypto";
import type { StatementKeyStatus } from "../../issuers/statement-signer.ts";
import { freshDatabase, systemBackends, testBackends, type FreshDatabase } from "../../testing/databases.ts";
import { holdEmbeddedDatabase, mpay as mpayHere, spawnMpay } from "../../testing/mpay-cli.ts";

// The commands run in this process (testing/mpay-cli.ts), beside a database held as a running server holds it;
// on one backend the first install runs as a real `mpay` process, the certificate piped to its stdin.
describe.each(testBackends())("mpay statement-key [%s]", (backend) => {
  let dir: string;
  let database: FreshDatabase;
  let held: { close(): Promise<void> };
  const env = () => ({ MPAY_DATA_DIR: dir, ...(database.url ? { DATABASE_URL: database.url } : {}) });
  const mpay = (args: string[], input?: string) => mpayHere(args, env(), input);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "mpay-statement-key-"));
    database = await freshDatabase(backend);
    held = await holdEmbeddedDatabase(env());
  });
  afterAll(async () => {
    await held.close();
    await database.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it("shows the key to certify, installs the network's certificate, and rotates", { timeout: 180_000 }, async () => {
    const shown = await mpay(["statement-key", "show", "--json"]);
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
    const install = ["statement-key", "install", "--json"];
    const installed =
      backend === systemBackends()[0]
        ? await spawnMpay(install, env(), `${certificate}\n`)
        : await mpay(install, `${certificate}\n`);
    expect(installed.code, installed.stderr).toBe(0);
    expect(JSON.parse(installed.stdout)).toMatchObject({
      installed: { kid: key.kid, acquirerId: "mpay" },
      signingKid: key.kid,
    });

    const rotated = await mpay(["statement-key", "rotate", "--json"]);
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
    expect((await mpay(["statement-key", "install", file])).code).toBe(0);
    const after = await mpay(["statement-key", "show"]);
    expect(after.code).toBe(0);
    expect(after.stdout).toContain(`key 2 ${next.kid}  ← signs PIN statements`);
    expect(after.stdout).toMatch(/key 1 .*\n.*public key.*\n.*certificate for mpay/);
    for (const output of [shown, installed, rotated, after])
      expect(output.stdout + output.stderr).not.toMatch(/"d"\s*:/);
  });

  it("refuses what is not a certificate of its own key, with a stable code, and installs nothing", async () => {
    const before = JSON.parse((await mpay(["statement-key", "show", "--json"])).stdout) as StatementKeyStatus;
    const junk = await mpay(["statement-key", "install"], "eyJhbGciOiJFUzI1NiJ9.e30.c2ln\n");
    expect(junk.code).toBe(1);
    expect(junk.stderr).toMatch(/^mpay: statement_key_certificate_invalid: /m);
    const after = JSON.parse((await mpay(["statement-key", "show", "--json"])).stdout) as StatementKeyStatus;
    expect(after.keys.map((k) => k.certificates.length)).toEqual(before.keys.map((k) => k.certificates.length));
  });
});
