import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { loadWebServerConfig, messengerSocketUrl } from "./config.ts";

describe("the web server's configuration", () => {
  it("listens on MPAY_WEB_URL's port and names the others as every MPay process does", () => {
    const config = loadWebServerConfig({});
    // Reached at localhost (a host name, so the wallet can have passkeys), listening on the loopback address.
    expect(config).toMatchObject({
      host: "127.0.0.1",
      port: 4300,
      webUrl: "http://localhost:4300",
      payUrl: "http://127.0.0.1:4000",
      messengerUrl: "http://127.0.0.1:4200",
      messengerWsUrl: "ws://127.0.0.1:4200/api/ws",
      trustedRootsFile: resolve(".data/network/demo-roots.json"),
    });
    const moved = loadWebServerConfig({
      MPAY_WEB_URL: "http://127.0.0.1:5300",
      PAY_PORT: "5000",
      MESSENGER_PORT: "5200",
      MPAY_NETWORK_DIR: "/srv/network",
    });
    expect(moved).toMatchObject({
      port: 5300,
      payUrl: "http://127.0.0.1:5000",
      messengerWsUrl: "ws://127.0.0.1:5200/api/ws",
      trustedRootsFile: "/srv/network/demo-roots.json",
    });
  });

  it("listens elsewhere than its public URL says with WEB_PORT and WEB_HOST (behind a proxy)", () => {
    const config = loadWebServerConfig({ MPAY_WEB_URL: "https://pay.example", WEB_PORT: "8080", WEB_HOST: "0.0.0.0" });
    expect(config).toMatchObject({ host: "0.0.0.0", port: 8080, webUrl: "https://pay.example" });
    expect(loadWebServerConfig({ MPAY_WEB_URL: "https://pay.example" }).port).toBe(443);
    expect(loadWebServerConfig({ MPAY_WEB_TRUSTED_ROOTS_FILE: "/etc/mpay/roots.json" }).trustedRootsFile).toBe(
      "/etc/mpay/roots.json",
    );
  });

  it("refuses a port that browsers will not connect to, naming the variable", () => {
    expect(() => loadWebServerConfig({ MPAY_WEB_URL: "http://127.0.0.1:6000" })).toThrow(
      /^MPAY_WEB_URL: port 6000 cannot be used: browsers and fetch refuse/,
    );
    expect(() => loadWebServerConfig({ WEB_PORT: "6667" })).toThrow(/^WEB_PORT: port 6667 cannot be used/);
  });

  it("reaches the messenger's WebSocket over wss: when the messenger is on https:", () => {
    expect(messengerSocketUrl("https://talk.example")).toBe("wss://talk.example/api/ws");
    expect(messengerSocketUrl("http://127.0.0.1:4200")).toBe("ws://127.0.0.1:4200/api/ws");
  });
});
