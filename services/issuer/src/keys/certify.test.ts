/**
 * The certify script, run over a throwaway fixtures folder with roots made for the test (never the committed
 * root keys): it refuses to certify with roots the wallet does not ship, then certifies every default issuer,
 * keeps keys on a second run, and replaces only the encryption keys with --new-keys.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { verifyIssuerCertificate, type NetworkRoot } from "@mpay/crypto";
import { certify } from "../../scripts/certify.ts";
import { DEFAULT_ISSUER_IDS } from "../definitions.ts";
import { cardVerificationKeyFile, encryptionKeyFile } from "../testing/fixtures.ts";
import { loadIssuerKeys } from "./issuer-keys.ts";

describe("the certify script", () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it("certifies the default issuers with shipped roots only, keeping keys it already has", async () => {
    const dir = await mkdtemp(join(tmpdir(), "issuer-certify-"));
    dirs.push(dir);
    const now = Math.floor(Date.now() / 1000);
    const lines: string[] = [];
    const base = { fixturesDir: dir, newKeys: false, now, say: (line: string) => void lines.push(line) };
    const first = await certify({ ...base, trustedRoots: [] });
    expect("untrustedRoots" in first).toBe(true);
    const roots = (first as { untrustedRoots: NetworkRoot[] }).untrustedRoots;
    expect(roots.map((r) => r.name)).toEqual(["MPay Test Network Root A", "MPay Test Network Root B"]);

    expect(await certify({ ...base, trustedRoots: roots })).toEqual({ certified: DEFAULT_ISSUER_IDS });
    const files = (id: string) => ({
      certificate: join(dir, "issuers", id, "certificate.jws"),
      encryptionKey: encryptionKeyFile(id, dir),
      cardVerificationKey: cardVerificationKeyFile(id, dir),
    });
    for (const id of DEFAULT_ISSUER_IDS) {
      const keys = await loadIssuerKeys(id, files(id));
      expect((await verifyIssuerCertificate(keys.certificateJws, roots, now)).issuerId).toBe(id);
    }
    const before = await readFile(encryptionKeyFile("sampo", dir), "utf8");
    const cvk = await readFile(cardVerificationKeyFile("sampo", dir), "utf8");
    await certify({ ...base, trustedRoots: roots });
    expect(await readFile(encryptionKeyFile("sampo", dir), "utf8")).toBe(before);
    await certify({ ...base, trustedRoots: roots, newKeys: true });
    expect(await readFile(encryptionKeyFile("sampo", dir), "utf8")).not.toBe(before);
    expect(await readFile(cardVerificationKeyFile("sampo", dir), "utf8")).toBe(cvk);
    await loadIssuerKeys("sampo", files("sampo"));
  });
});
