import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { systemAddresses } from "@mpay/service-kit";
import { acquirerSecretOf, loadIssuerSettings } from "./settings.ts";

const settingsOf = (env: NodeJS.ProcessEnv) => loadIssuerSettings(env, systemAddresses(env).urls.issuer, 10_000);

describe("issuer settings", () => {
  it("default to the embedded simulator, and follow its own port, folder and secret variables", () => {
    expect(settingsOf({})).toMatchObject({
      url: "http://127.0.0.1:4100",
      acquirerSecret: undefined,
      acquirerSecretFile: resolve(".data/issuer/acquirer.json"),
    });
    expect(
      settingsOf({ ISSUER_PORT: "14100", ISSUER_DATA_DIR: "/tmp/x/issuer", ISSUER_ACQUIRER_SECRET: "s" }),
    ).toMatchObject({
      url: "http://127.0.0.1:14100",
      acquirerSecret: "s",
      acquirerSecretFile: "/tmp/x/issuer/acquirer.json",
    });
    // The pay server's own variables win.
    expect(
      settingsOf({
        ISSUER_PORT: "14100",
        MPAY_ISSUER_URL: "https://issuer.example/",
        MPAY_ISSUER_ACQUIRER_SECRET: "p",
        ISSUER_ACQUIRER_SECRET: "s",
      }),
    ).toMatchObject({
      url: "https://issuer.example",
      acquirerSecret: "p",
    });
  });

  it("name issuers on hosts of their own, each with its URL, secret and timeout; the default host keeps the rest", () => {
    const settings = settingsOf({
      MPAY_ISSUER_SAMPO_URL: "http://10.0.0.5:4101/",
      MPAY_ISSUER_SAMPO_SECRET: "s".repeat(40),
      MPAY_ISSUER_SAMPO_TIMEOUT_MS: "2500",
      MPAY_ISSUER_HANA_CARD_URL: "http://10.0.0.6:4102",
      MPAY_ISSUER_HANA_CARD_SECRET_FILE: "/run/secrets/hana.json",
      MPAY_ISSUER_BREAKER_FAILURES: "3",
    });
    expect(settings.url).toBe("http://127.0.0.1:4100");
    expect(settings.hosts).toEqual([
      {
        issuerId: "hana-card",
        url: "http://10.0.0.6:4102",
        acquirerSecret: undefined,
        acquirerSecretFile: "/run/secrets/hana.json",
        timeoutMs: 10_000,
      },
      {
        issuerId: "sampo",
        url: "http://10.0.0.5:4101",
        acquirerSecret: "s".repeat(40),
        acquirerSecretFile: resolve("."),
        timeoutMs: 2500,
      },
    ]);
    expect(settings.breaker).toEqual({ failures: 3, cooldownMs: 30_000 });
    // A host without its own secret is refused at start, by name (and no value is echoed).
    expect(() => settingsOf({ MPAY_ISSUER_SAMPO_URL: "http://10.0.0.5:4101" })).toThrow(/MPAY_ISSUER_SAMPO_SECRET/);
    expect(() => settingsOf({ MPAY_ISSUER_SAMPO_URL: "ftp://x", MPAY_ISSUER_SAMPO_SECRET: "s".repeat(40) })).toThrow(
      /http\(s\) URL/,
    );
    expect(() => settingsOf({ MPAY_ISSUER_BREAKER_FAILURES: "0" })).toThrow(/MPAY_ISSUER_BREAKER_FAILURES/);
  });
});

describe("the acquirer secret from the issuer simulator's file", () => {
  let dir = "";
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("is picked up by the next authorization when the simulator writes it later or writes a new one", async () => {
    dir = await mkdtemp(join(tmpdir(), "mpay-acquirer-"));
    const file = join(dir, "acquirer.json");
    const settings = { ...settingsOf({ ISSUER_DATA_DIR: dir }), acquirerSecretFile: file };
    const first = "a".repeat(43);
    const second = "b".repeat(44); // another size: seen at once even within one tick of the file system's clock
    // Not there yet (the simulator starts later): an issuer error that names the file, not a secret.
    await expect(acquirerSecretOf(settings)).rejects.toMatchObject({ code: "issuer_unavailable" });
    await writeFile(file, JSON.stringify({ secret: first }));
    expect(await acquirerSecretOf(settings)).toBe(first);
    expect(await acquirerSecretOf(settings)).toBe(first);
    await writeFile(file, JSON.stringify({ secret: second }));
    expect(await acquirerSecretOf(settings)).toBe(second);
    await rm(file);
    await expect(acquirerSecretOf(settings)).rejects.toMatchObject({ code: "issuer_unavailable" });
    // The configured secret wins and no file is needed for it.
    expect(await acquirerSecretOf({ ...settings, acquirerSecret: "p".repeat(40) })).toBe("p".repeat(40));
  });
});
