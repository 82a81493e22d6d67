import { describe, expect, it } from "vitest";
import { systemAddresses, systemUrls } from "./system-urls.ts";

describe("the system's addresses", () => {
  it("default to npm start's ports on 127.0.0.1, the web app at localhost (a host name can have passkeys)", () => {
    expect(systemAddresses({})).toEqual({
      ports: { pay: 4000, issuer: 4100, messenger: 4200 },
      urls: {
        pay: "http://127.0.0.1:4000",
        issuer: "http://127.0.0.1:4100",
        messenger: "http://127.0.0.1:4200",
        web: "http://localhost:4300",
      },
      explicit: { pay: false, issuer: false, messenger: false, web: false },
    });
  });

  it("follow the ports: every process that reads them finds each service where it listens", () => {
    expect(systemUrls({ PAY_PORT: "5000", ISSUER_PORT: "5100", MESSENGER_PORT: "5200" })).toMatchObject({
      pay: "http://127.0.0.1:5000",
      issuer: "http://127.0.0.1:5100",
      messenger: "http://127.0.0.1:5200",
    });
    // Platforms set PORT; PAY_PORT wins over it.
    expect(systemAddresses({ PORT: "8080" }).ports.pay).toBe(8080);
    expect(systemAddresses({ PORT: "8080", PAY_PORT: "5000" }).urls.pay).toBe("http://127.0.0.1:5000");
  });

  it("follow a service's host, except a wildcard that listens everywhere", () => {
    expect(systemUrls({ MESSENGER_HOST: "localhost", MESSENGER_PORT: "5200" }).messenger).toBe("http://localhost:5200");
    expect(systemUrls({ PAY_HOST: "0.0.0.0" }).pay).toBe("http://127.0.0.1:4000");
    expect(systemUrls({ ISSUER_HOST: "::1" }).issuer).toBe("http://[::1]:4100");
  });

  it("take a URL set explicitly over the port, without its trailing slash", () => {
    const addresses = systemAddresses({
      PAY_PORT: "5000",
      MPAY_PUBLIC_URL: "https://pay.example/",
      MPAY_ISSUER_URL: "http://issuers.internal:8100/",
      MESSENGER_ISSUER: "https://id.messenger.example",
      MPAY_WEB_URL: "https://wallet.example/",
    });
    expect(addresses.ports.pay).toBe(5000);
    expect(addresses.urls).toEqual({
      pay: "https://pay.example",
      issuer: "http://issuers.internal:8100",
      messenger: "https://id.messenger.example",
      web: "https://wallet.example",
    });
    expect(addresses.explicit).toEqual({ pay: true, issuer: true, messenger: true, web: true });
  });

  it("read the messenger's URL under both its names, and refuse two different ones", () => {
    expect(systemUrls({ MPAY_MESSENGER_ISSUER: "http://127.0.0.1:5200/" }).messenger).toBe("http://127.0.0.1:5200");
    expect(
      systemUrls({ MPAY_MESSENGER_ISSUER: "http://127.0.0.1:5200", MESSENGER_ISSUER: "http://127.0.0.1:5200/" })
        .messenger,
    ).toBe("http://127.0.0.1:5200");
    expect(() =>
      systemUrls({ MPAY_MESSENGER_ISSUER: "http://127.0.0.1:5200", MESSENGER_ISSUER: "http://127.0.0.1:5300" }),
    ).toThrow(/MESSENGER_ISSUER and MPAY_MESSENGER_ISSUER name the messenger twice/);
  });

  it("refuse a port that browsers and fetch block, set or derived, naming the variable", () => {
    expect(() => systemUrls({ PAY_PORT: "6000" })).toThrow(/^PAY_PORT: port 6000 cannot be used: .*x11/);
    expect(() => systemUrls({ MESSENGER_PORT: "6667" })).toThrow(/^MESSENGER_PORT: port 6667/);
    expect(() => systemUrls({ ISSUER_PORT: "5060" })).toThrow(/^ISSUER_PORT: port 5060 .*sip/);
    expect(() => systemUrls({ MPAY_ISSUER_URL: "http://issuers.internal:6666" })).toThrow(
      /^MPAY_ISSUER_URL: port 6666/,
    );
    expect(() => systemUrls({ MPAY_WEB_URL: "http://127.0.0.1:10080" })).toThrow(/^MPAY_WEB_URL: port 10080/);
    // A URL set explicitly is what others reach: the port behind a proxy may be anything.
    expect(systemAddresses({ PAY_PORT: "4000", MPAY_PUBLIC_URL: "https://pay.example" }).urls.pay).toBe(
      "https://pay.example",
    );
  });
});
