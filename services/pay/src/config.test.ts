import { describe, expect, it } from "vitest";
import { loadConfig } from "./config.ts";

describe("pay server configuration: where the others are", () => {
  it("defaults to npm start's ports", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 4000,
      publicUrl: "http://127.0.0.1:4000",
      checkoutBaseUrl: "http://localhost:4300",
    });
    // The wallet's passkeys belong to the web app's host: npm start's defaults can add and use them.
    expect(config.passkeys).toEqual({ rpId: "localhost", rpName: "MPay", origins: ["http://localhost:4300"] });
    expect(config.messenger.issuer).toBe("http://127.0.0.1:4200");
    expect(config.issuers.url).toBe("http://127.0.0.1:4100");
    expect(config.messenger.clientSecretFile).toMatch(/\.data\/messenger\/pay-client\.json$/);
  });

  it("follows the ports and folders of all three services (issue 8: it kept looking for the messenger on 4200)", () => {
    const config = loadConfig({
      PAY_PORT: "5000",
      ISSUER_PORT: "5100",
      MESSENGER_PORT: "5200",
      MESSENGER_DATA_DIR: "/srv/messenger",
    });
    expect(config).toMatchObject({ port: 5000, publicUrl: "http://127.0.0.1:5000" });
    expect(config.issuers.url).toBe("http://127.0.0.1:5100");
    expect(config.auditWitness.url).toBe("http://127.0.0.1:5100/issuers/sampo/audit-heads");
    expect(config.messenger.issuer).toBe("http://127.0.0.1:5200");
    expect(config.messenger.clientSecretFile).toBe("/srv/messenger/pay-client.json");
  });

  it("takes URLs set explicitly over ports", () => {
    const config = loadConfig({
      MESSENGER_PORT: "5200",
      MPAY_MESSENGER_ISSUER: "https://id.messenger.example/",
      MPAY_ISSUER_URL: "http://issuers.internal:8100",
    });
    expect(config.messenger.issuer).toBe("https://id.messenger.example");
    expect(config.issuers.url).toBe("http://issuers.internal:8100");
  });

  it("follows the web app's URL for passkeys, and has none for a web app at an IP address", () => {
    expect(loadConfig({ MPAY_WEB_URL: "http://localhost:5300" }).passkeys).toEqual({
      rpId: "localhost",
      rpName: "MPay",
      origins: ["http://localhost:5300"],
    });
    expect(loadConfig({ MPAY_WEB_URL: "https://pay.example", MPAY_PASSKEY_RP_NAME: "Pay" }).passkeys).toEqual({
      rpId: "pay.example",
      rpName: "Pay",
      origins: ["https://pay.example"],
    });
    expect(loadConfig({ MPAY_WEB_URL: "http://127.0.0.1:5300" }).passkeys).toBeNull();
    expect(() => loadConfig({ MPAY_PASSKEY_RP_ID: "127.0.0.1" })).toThrow(
      /^MPAY_PASSKEY_RP_ID: 127\.0\.0\.1 is an IP address/,
    );
  });

  it("refuses a port browsers and fetch block, naming the variable and the reason", () => {
    expect(() => loadConfig({ PAY_PORT: "6000" })).toThrow(
      /^PAY_PORT: port 6000 cannot be used: browsers and fetch refuse/,
    );
    expect(() => loadConfig({ MESSENGER_PORT: "6666" })).toThrow(/^MESSENGER_PORT: port 6666/);
    expect(() => loadConfig({ PAY_PORT: "http" })).toThrow(/PAY_PORT/);
  });
});
