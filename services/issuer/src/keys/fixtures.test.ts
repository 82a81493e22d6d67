/**
 * The test network's fixtures hold together: every default issuer's certificate verifies against a test root (the
 * wallet's testing entry and the roots file tests give issuer hosts are the same), both roots are used, the
 * certificate is the issuer's own key and BIN ranges, no two issuers' ranges overlap, and every documented test
 * card (PAN, CVC) matches its issuer's ranges and card verification key.
 */
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { verifyIssuerCertificate } from "@mpay/crypto";
import { binInRanges, luhnValid } from "@mpay/protocol";
import { jwsKid } from "@mpay/crypto";
import { TEST_NETWORK_ROOTS } from "@mpay/testing/network-roots";
import { DEFAULT_ISSUERS } from "../definitions.ts";
import { fixtureHostConfig, TEST_ROOTS_FILE } from "../testing/fixtures.ts";
import { expiryMonthOf } from "../cards/card-facts.ts";
import { TEST_CARDS } from "../cards/test-cards.ts";
import { cardVerificationCode } from "./cvc.ts";
import { loadIssuerKeys } from "./issuer-keys.ts";

const config = fixtureHostConfig(DEFAULT_ISSUERS.map((issuer) => issuer.id));
const now = Math.floor(Date.now() / 1000);

describe("test network fixtures", () => {
  it("certifies every default issuer with a shipped root, using both roots", async () => {
    const rootsUsed = new Set<string>();
    for (const { id, files } of config.issuers) {
      const keys = await loadIssuerKeys(id, files);
      const certified = await verifyIssuerCertificate(keys.certificateJws, TEST_NETWORK_ROOTS, now);
      const definition = DEFAULT_ISSUERS.find((d) => d.id === id)!;
      expect(certified).toMatchObject({ issuerId: id, name: definition.name, binRanges: definition.binRanges });
      expect(certified.exp - now).toBeGreaterThan(365 * 24 * 3600);
      rootsUsed.add(TEST_NETWORK_ROOTS.find((r) => r.kid === jwsKid(keys.certificateJws))!.name);
    }
    expect(rootsUsed.size).toBe(2);
  });

  it("keeps the test roots file equal to the roots the wallet's testing entry exports", async () => {
    expect(JSON.parse(await readFile(TEST_ROOTS_FILE, "utf8"))).toEqual(JSON.parse(JSON.stringify(TEST_NETWORK_ROOTS)));
  });

  it("refuses a certificate that is not the issuer's own key", async () => {
    const { files } = config.issuers[0]!;
    const other = config.issuers[1]!;
    await expect(
      loadIssuerKeys(config.issuers[0]!.id, { ...files, encryptionKey: other.files.encryptionKey }),
    ).rejects.toThrow(/is not the key of the certificate/);
    await expect(loadIssuerKeys(other.id, files)).rejects.toThrow(/is for/);
  });

  it("gives every issuer BIN ranges no other issuer has", () => {
    const ranges = DEFAULT_ISSUERS.flatMap((issuer) =>
      issuer.binRanges.map((range) => ({ ...range, issuer: issuer.id })),
    );
    for (const a of ranges)
      for (const b of ranges)
        if (a !== b) expect(a.to < b.from || b.to < a.from, `${a.issuer} ${a.from} / ${b.issuer} ${b.from}`).toBe(true);
  });

  it("documents test cards that belong to their issuer, with the CVC its key computes", async () => {
    for (const { id, files } of config.issuers) {
      const keys = await loadIssuerKeys(id, files);
      const cards = TEST_CARDS.filter((card) => card.issuerId === id);
      expect(cards.length).toBe(7);
      for (const card of cards) {
        expect(luhnValid(card.pan), card.pan).toBe(true);
        expect(binInRanges(card.pan, keys.certificate.binRanges), card.pan).toBe(true);
        expect(cardVerificationCode(keys.cardVerificationKey, card.pan, expiryMonthOf(card.expiry)), card.pan).toBe(
          card.cvc,
        );
      }
      expect(new Set(cards.map((c) => c.phone)).size).toBe(cards.length);
    }
  });

  it("lists every test card, with its CVC, in both READMEs", async () => {
    const readmes = ["../../README.md", "../../../../README.md"].map((path) =>
      readFile(fileURLToPath(new URL(path, import.meta.url)), "utf8"),
    );
    for (const readme of await Promise.all(readmes)) {
      for (const card of TEST_CARDS) {
        const printed = card.pan.replace(/(\d{4})(?=\d)/g, "$1 ");
        expect(readme, card.pan).toMatch(new RegExp(`\`${printed}\`[^\\n]*${card.cvc}`));
      }
    }
  });
});
