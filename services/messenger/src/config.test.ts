import { describe, expect, it } from "vitest";
import { loadConfig } from "./config.ts";

describe("messenger configuration", () => {
  it("defaults to 127.0.0.1:4200, PGlite under .data/messenger/db and the pay client's development redirect", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      host: "127.0.0.1",
      port: 4200,
      issuer: "http://127.0.0.1:4200",
      databaseUrl: undefined,
    });
    expect(config.embeddedDatabaseDir).toMatch(/\.data\/messenger\/db$/);
    expect(config.appSessionTtlSeconds).toBe(30 * 86_400);
    expect(config.officialAccounts).toEqual([{ handle: "mpay", name: "MPay", clientId: "mpay-pay" }]);
    expect(config.clients).toEqual([
      {
        clientId: "mpay-pay",
        clientSecret: undefined,
        redirectUris: ["http://127.0.0.1:4000/v1/payer/auth/callback"],
        name: "MPay",
        firstParty: true,
      },
    ]);
  });

  it("reads the environment", () => {
    const config = loadConfig({
      MESSENGER_PORT: "4210",
      MESSENGER_ISSUER: "https://id.messenger.example/",
      MESSENGER_DATABASE_URL: "postgres://db/messenger",
      MESSENGER_PAY_CLIENT_ID: "pay",
      MESSENGER_PAY_CLIENT_SECRET: "s".repeat(32),
      MESSENGER_PAY_REDIRECT_URIS: "https://pay.example/cb, https://pay.example/cb2",
    });
    expect(config.issuer).toBe("https://id.messenger.example");
    expect(config.port).toBe(4210);
    expect(config.clients[0]).toMatchObject({
      clientId: "pay",
      redirectUris: ["https://pay.example/cb", "https://pay.example/cb2"],
    });
    expect(config.clients[0]?.clientSecret?.peek()).toBe("s".repeat(32));
    // The MPay official account is operated by the pay client, whatever its id.
    expect(config.officialAccounts).toEqual([{ handle: "mpay", name: "MPay", clientId: "pay" }]);
    expect(JSON.stringify(config)).not.toContain("s".repeat(32));
  });

  it("sends payers back to the pay server where PAY_PORT or MPAY_PUBLIC_URL puts it (issue 8: it kept sending them to 4000)", () => {
    expect(loadConfig({ PAY_PORT: "5000", MESSENGER_PORT: "5200" })).toMatchObject({
      port: 5200,
      issuer: "http://127.0.0.1:5200",
      clients: [{ redirectUris: ["http://127.0.0.1:5000/v1/payer/auth/callback"] }],
    });
    expect(loadConfig({ MPAY_PUBLIC_URL: "https://pay.example/" }).clients[0]?.redirectUris).toEqual([
      "https://pay.example/v1/payer/auth/callback",
    ]);
    // The pay server's name for the messenger's URL names it here too.
    expect(loadConfig({ MPAY_MESSENGER_ISSUER: "https://id.messenger.example" }).issuer).toBe(
      "https://id.messenger.example",
    );
    // Port 0 (tests): the issuer follows the port bound.
    expect(loadConfig({ MESSENGER_PORT: "0" }).issuer).toBeUndefined();
  });

  it("refuses a port browsers and fetch block, naming the variable and the reason", () => {
    expect(() => loadConfig({ MESSENGER_PORT: "6667" })).toThrow(
      /^MESSENGER_PORT: port 6667 cannot be used: browsers and fetch refuse to connect to it .*ircu/,
    );
    expect(() => loadConfig({ PAY_PORT: "5060" })).toThrow(/^PAY_PORT: port 5060/);
  });

  it("refuses what it cannot serve safely", () => {
    expect(() => loadConfig({ MESSENGER_ISSUER: "https://example.com/messenger" })).toThrow(/without a path/);
    expect(() => loadConfig({ MESSENGER_PAY_CLIENT_SECRET: "short" })).toThrow(/at least 32/);
    expect(() => loadConfig({ MESSENGER_PAY_REDIRECT_URIS: "myapp://callback" })).toThrow(/http\(s\)/);
    expect(() => loadConfig({ MESSENGER_COOKIE_KEYS: "weak" })).toThrow(/at least 32/);
    expect(() => loadConfig({ MESSENGER_PORT: "http" })).toThrow(/MESSENGER_PORT/);
  });
});
