import { describe, expect, it } from "vitest";
import { isIpAddressHost, webAuthnRelyingParty } from "./relying-party.ts";
import { systemUrls } from "./system-urls.ts";

describe("the passkeys' relying party", () => {
  it("is the web app's host name and origin by default, so npm start's wallet can add passkeys", () => {
    expect(webAuthnRelyingParty({}, "MPAY", systemUrls({}).web)).toEqual({
      rpId: "localhost",
      origins: ["http://localhost:4300"],
    });
    expect(webAuthnRelyingParty({}, "ISSUER", "https://wallet.example")).toEqual({
      rpId: "wallet.example",
      origins: ["https://wallet.example"],
    });
  });

  it("is none for a web app at an IP address, where browsers allow no passkey", () => {
    expect(webAuthnRelyingParty({}, "MPAY", "http://127.0.0.1:4300")).toBeNull();
    expect(webAuthnRelyingParty({}, "ISSUER", "http://[::1]:4300")).toBeNull();
    // Named explicitly, a host name works for the IP-addressed web app's other names.
    expect(
      webAuthnRelyingParty(
        { MPAY_PASSKEY_RP_ID: "localhost", MPAY_PASSKEY_ORIGINS: "http://localhost:4300" },
        "MPAY",
        "http://127.0.0.1:4300",
      ),
    ).toEqual({ rpId: "localhost", origins: ["http://localhost:4300"] });
  });

  it("takes the RP ID and origins set explicitly", () => {
    expect(
      webAuthnRelyingParty(
        { MPAY_PASSKEY_RP_ID: "pay.example", MPAY_PASSKEY_ORIGINS: "https://pay.example/, https://wallet.pay.example" },
        "MPAY",
        "https://pay.example",
      ),
    ).toEqual({ rpId: "pay.example", origins: ["https://pay.example", "https://wallet.pay.example"] });
  });

  it("refuses what can never work, naming the variable", () => {
    expect(() => webAuthnRelyingParty({ MPAY_PASSKEY_RP_ID: "127.0.0.1" }, "MPAY", "http://localhost:4300")).toThrow(
      /^MPAY_PASSKEY_RP_ID: 127\.0\.0\.1 is an IP address, and browsers accept only a host name/,
    );
    expect(() =>
      webAuthnRelyingParty({ ISSUER_PASSKEY_RP_ID: "localhost:4300" }, "ISSUER", "http://localhost:4300"),
    ).toThrow(/^ISSUER_PASSKEY_RP_ID must be a host name/);
    expect(() =>
      webAuthnRelyingParty({ MPAY_PASSKEY_ORIGINS: "https://evil.example" }, "MPAY", "http://localhost:4300"),
    ).toThrow(/passkey origin https:\/\/evil\.example is not on MPAY_PASSKEY_RP_ID's domain localhost/);
    expect(() =>
      webAuthnRelyingParty({ MPAY_PASSKEY_ORIGINS: "http://localhost:4300" }, "MPAY", "http://127.0.0.1:4300"),
    ).toThrow(/^MPAY_PASSKEY_ORIGINS is set but the web app's URL http:\/\/127\.0\.0\.1:4300 is an IP address/);
    expect(() => webAuthnRelyingParty({ MPAY_PASSKEY_ORIGINS: "localhost" }, "MPAY", "http://localhost:4300")).toThrow(
      /^MPAY_PASSKEY_ORIGINS must list http\(s\) origins/,
    );
  });

  it("tells an IP address from a host name as a URL gives it", () => {
    for (const url of ["http://127.0.0.1", "http://10.0.0.7:8080", "http://[::1]:4300", "http://127.1"])
      expect(isIpAddressHost(new URL(url).hostname)).toBe(true);
    for (const url of ["http://localhost", "https://pay.example", "http://1.example"])
      expect(isIpAddressHost(new URL(url).hostname)).toBe(false);
  });
});
