import { describe, expect, it } from "vitest";
import { DEFAULT_AUTHENTICATION_LIMITS, DEFAULT_ENROLLMENT_LIMITS, loadConfig } from "./config.ts";

describe("issuer host configuration", () => {
  it("defaults to the three issuers on 127.0.0.1:4100 with PGlite, keys and network roots under .data/issuer, never the fixtures", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      host: "127.0.0.1",
      port: 4100,
      databaseUrl: undefined,
      testInbox: true,
      acquirerSecret: undefined,
      operatorToken: undefined,
    });
    expect(config.dataDir).toMatch(/\.data\/issuer$/);
    expect(config.issuers.map((i) => i.id)).toEqual(["sampo", "kstar", "handae"]);
    expect(config.issuers[0]!.files).toEqual({
      certificate: `${config.dataDir}/sampo/keys/certificate.jws`,
      encryptionKey: `${config.dataDir}/sampo/keys/encryption-key.private.jwk.json`,
      cardVerificationKey: `${config.dataDir}/sampo/keys/card-verification-key.private.jwk.json`,
    });
    expect(config.networkRootsFile).toBe(`${config.dataDir}/network-roots.json`);
    expect(config.acquirerId).toBe("mpay");
    expect(JSON.stringify(config)).not.toContain("fixtures");
    expect(config.passkeys).toEqual({ rpId: "localhost", origins: ["http://localhost:4300"] });
    expect(config.enrollmentLimits).toEqual(DEFAULT_ENROLLMENT_LIMITS);
    expect(config.authenticationLimits).toEqual({ pin: 2_000_000, passkey: 10_000_000 });
    expect(DEFAULT_AUTHENTICATION_LIMITS.pin).toBeLessThan(DEFAULT_AUTHENTICATION_LIMITS.passkey);
    expect(config.fx.feeBps).toBe(100);
    expect(config.fx.rates["KRW"]?.["USD"]).toBe("1380.00");
  });

  it("reads the environment, and keeps secrets out of its JSON", () => {
    const config = loadConfig({
      ISSUER_PORT: "4110",
      ISSUER_DATABASE_URL: "postgres://db/issuers",
      ISSUER_IDS: "sampo, handae",
      ISSUER_HANDAE_CERTIFICATE_FILE: "/etc/issuer/handae.jws",
      ISSUER_ACQUIRER_SECRET: "a".repeat(40),
      ISSUER_OPERATOR_TOKEN: "o".repeat(40),
      ISSUER_TEST_INBOX: "off",
      ISSUER_PASSKEY_RP_ID: "wallet.example",
      ISSUER_PASSKEY_ORIGINS: "https://wallet.example/, https://pay.wallet.example",
      ISSUER_NETWORK_ROOTS_FILE: "/etc/issuer/roots.json",
      ISSUER_ACQUIRER_ID: "mpay-eu",
      ISSUER_DATA_DIR: "/var/lib/issuer",
      ISSUER_FX_FEE_BPS: "0",
    });
    expect(config.fx.feeBps).toBe(0);
    expect(config.port).toBe(4110);
    expect(config.issuers.map((i) => i.id)).toEqual(["sampo", "handae"]);
    expect(config.issuers[1]!.files.certificate).toBe("/etc/issuer/handae.jws");
    expect(config.issuers[1]!.files.encryptionKey).toBe("/var/lib/issuer/handae/keys/encryption-key.private.jwk.json");
    expect([config.networkRootsFile, config.acquirerId]).toEqual(["/etc/issuer/roots.json", "mpay-eu"]);
    expect(config.testInbox).toBe(false);
    expect(config.passkeys).toEqual({
      rpId: "wallet.example",
      origins: ["https://wallet.example", "https://pay.wallet.example"],
    });
    expect(config.acquirerSecret?.peek()).toBe("a".repeat(40));
    expect(JSON.stringify(config)).not.toContain("a".repeat(40));
    expect(JSON.stringify(config)).not.toContain("o".repeat(40));
  });

  it("checks passkeys for the web app where it is, as the pay server does, and for none at an IP address", () => {
    expect(loadConfig({ MPAY_WEB_URL: "http://localhost:5300" }).passkeys).toEqual({
      rpId: "localhost",
      origins: ["http://localhost:5300"],
    });
    expect(loadConfig({ MPAY_WEB_URL: "http://127.0.0.1:5300" }).passkeys).toBeNull();
    expect(() => loadConfig({ ISSUER_PASSKEY_RP_ID: "127.0.0.1" })).toThrow(
      /^ISSUER_PASSKEY_RP_ID: 127\.0\.0\.1 is an IP address/,
    );
  });

  it("refuses what it cannot serve safely", () => {
    expect(() => loadConfig({ ISSUER_ACQUIRER_SECRET: "short" })).toThrow(/at least 32/);
    expect(() => loadConfig({ ISSUER_IDS: "Sampo" })).toThrow(/not an issuer id/);
    expect(() => loadConfig({ ISSUER_IDS: "sampo,sampo" })).toThrow(/twice/);
    expect(() => loadConfig({ ISSUER_TEST_INBOX: "maybe" })).toThrow(/on or off/);
    expect(() => loadConfig({ ISSUER_ACQUIRER_ID: "MPay Inc." })).toThrow(/not an acquirer id/);
    expect(() => loadConfig({ ISSUER_PORT: "http" })).toThrow(/ISSUER_PORT/);
    expect(() => loadConfig({ ISSUER_FX_FEE_BPS: "1.5" })).toThrow(/ISSUER_FX_FEE_BPS must be an integer/);
    expect(() => loadConfig({ ISSUER_FX_FEE_BPS: "1001" })).toThrow(/at most 1000/);
    expect(() => loadConfig({ ISSUER_PORT: "6000" })).toThrow(
      /^ISSUER_PORT: port 6000 cannot be used: browsers and fetch refuse to connect to it .*x11/,
    );
  });
});
