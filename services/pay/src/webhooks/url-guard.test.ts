import type { LookupAddress } from "node:dns";
import type { LookupFunction } from "node:net";
import { describe, expect, it } from "vitest";
import { guardedLookup, isLoopbackAddress, isPublicAddress, validateWebhookUrl } from "./url-guard.ts";

describe("isPublicAddress — IPv4", () => {
  // One address inside each non-public range, plus its edges where a neighbour is public.
  const notPublic = [
    "0.0.0.0",
    "0.255.255.255",
    "10.0.0.1",
    "10.255.255.255",
    "100.64.0.1",
    "100.127.255.255",
    "127.0.0.1",
    "127.255.255.254",
    "169.254.169.254",
    "172.16.0.1",
    "172.31.255.255",
    "192.0.0.8",
    "192.0.2.1",
    "192.88.99.1",
    "192.168.0.1",
    "192.168.255.255",
    "198.18.0.1",
    "198.19.255.255",
    "198.51.100.7",
    "203.0.113.9",
    "224.0.0.1",
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
  ];
  const isPublic = [
    "8.8.8.8",
    "1.1.1.1",
    "93.184.216.34",
    "11.0.0.1",
    "100.63.255.255",
    "100.128.0.0",
    "126.255.255.255",
    "128.0.0.1",
    "169.253.255.255",
    "172.15.255.255",
    "172.32.0.0",
    "192.0.1.1",
    "192.167.255.255",
    "192.169.0.0",
    "198.17.255.255",
    "198.20.0.0",
    "223.255.255.255",
  ];
  it.each(notPublic)("%s is not public", (ip) => expect(isPublicAddress(ip)).toBe(false));
  it.each(isPublic)("%s is public", (ip) => expect(isPublicAddress(ip)).toBe(true));
});

describe("isPublicAddress — IPv6", () => {
  const notPublic = [
    "::",
    "::1",
    "0:0:0:0:0:0:0:1",
    "fc00::1",
    "fd12:3456:789a::1",
    "fe80::1",
    "febf::1",
    "fe80::1%eth0",
    "ff02::1",
    "ff0e::1",
    "64:ff9b::808:808",
    "2001:db8::1",
    "2001:db8:ffff::1",
    "2001::1",
    "2002:7f00:1::1",
    "3fff::1",
    "::7f00:1",
    "100::1",
  ];
  const isPublic = ["2606:4700:4700::1111", "2001:4860:4860::8888", "2a00:1450:4001::200e"];
  it.each(notPublic)("%s is not public", (ip) => expect(isPublicAddress(ip)).toBe(false));
  it.each(isPublic)("%s is public", (ip) => expect(isPublicAddress(ip)).toBe(true));
});

describe("IPv4-mapped IPv6 is judged by its IPv4 address", () => {
  it.each([
    ["::ffff:127.0.0.1", false],
    ["::FFFF:7F00:1", false],
    ["0:0:0:0:0:ffff:10.0.0.1", false],
    ["::ffff:a9fe:a9fe", false], // 169.254.169.254
    ["::ffff:192.168.1.1", false],
    ["::ffff:0.0.0.0", false],
    ["::ffff:8.8.8.8", true],
    ["::ffff:808:808", true],
  ])("%s public=%s", (ip, expected) => expect(isPublicAddress(ip)).toBe(expected));

  it("counts mapped loopback as loopback", () => {
    expect(isLoopbackAddress("::ffff:127.0.0.1")).toBe(true);
    expect(isLoopbackAddress("::ffff:10.0.0.1")).toBe(false);
  });
});

describe("isLoopbackAddress", () => {
  it.each(["127.0.0.1", "127.1.2.3", "127.255.255.254", "::1", "0:0:0:0:0:0:0:1"])("%s is loopback", (ip) =>
    expect(isLoopbackAddress(ip)).toBe(true),
  );
  it.each(["128.0.0.1", "10.0.0.1", "0.0.0.0", "::", "::2", "fe80::1", "8.8.8.8"])("%s is not loopback", (ip) =>
    expect(isLoopbackAddress(ip)).toBe(false),
  );
});

describe("non-addresses are neither public nor loopback", () => {
  it.each(["", "localhost", "example.com", "1.2.3", "999.1.1.1", "[::1]", "1.2.3.4 "])("%j", (ip) => {
    expect(isPublicAddress(ip)).toBe(false);
    expect(isLoopbackAddress(ip)).toBe(false);
  });
});

describe("validateWebhookUrl", () => {
  const code = (url: string, mode: "test" | "live") => {
    const result = validateWebhookUrl(url, mode);
    return result.ok ? "ok" : result.code;
  };

  it("accepts https on a public host in both modes", () => {
    for (const mode of ["live", "test"] as const) {
      const result = validateWebhookUrl("https://shop.example.com/hooks?x=1", mode);
      expect(result.ok && result.url.href).toBe("https://shop.example.com/hooks?x=1");
      expect(code("https://93.184.216.34/h", mode)).toBe("ok");
      expect(code("https://[2606:4700:4700::1111]:8443/h", mode)).toBe("ok");
    }
  });

  it.each([
    "not a url",
    "/relative/path",
    "ftp://example.com/",
    "javascript:alert(1)",
    "file:///etc/passwd",
    "https://user:pass@example.com/",
    "https://user@example.com/",
    `https://example.com/${"a".repeat(2048)}`,
  ])("rejects %s as invalid", (url) => {
    expect(code(url, "live")).toBe("webhook_url_invalid");
    expect(code(url, "test")).toBe("webhook_url_invalid");
  });

  it("requires https in live mode", () => {
    expect(code("http://shop.example.com/hooks", "live")).toBe("webhook_url_insecure");
  });

  it("requires https in test mode too, except on loopback", () => {
    expect(code("http://shop.example.com/hooks", "test")).toBe("webhook_url_insecure");
    expect(code("http://127.0.0.1:3000/hooks", "test")).toBe("ok");
    expect(code("http://[::1]:3000/hooks", "test")).toBe("ok");
    expect(code("http://localhost:3000/hooks", "test")).toBe("ok");
    expect(code("http://api.localhost./hooks", "test")).toBe("ok");
    expect(code("https://localhost/hooks", "test")).toBe("ok");
  });

  it.each([
    "https://127.0.0.1/",
    "https://[::1]/",
    "https://localhost/",
    "https://LOCALHOST./",
    "https://app.localhost/",
    "https://10.1.2.3/",
    "https://169.254.169.254/latest/meta-data/",
    "https://[::ffff:127.0.0.1]/",
    "https://[::ffff:a00:1]/",
    "https://[fd00::1]/",
    "https://2130706433/", // 127.0.0.1 as one number
    "https://0x7f.1/", // 127.0.0.1 in hex shorthand
    "https://0.0.0.0/",
    "http://127.0.0.1/", // private wins over insecure: the more useful reason
  ])("rejects %s as private in live mode", (url) => {
    expect(code(url, "live")).toBe("webhook_url_private");
  });

  it.each([
    "https://10.1.2.3/",
    "http://192.168.1.10/",
    "https://169.254.169.254/",
    "https://[fe80::1]/",
    "https://[::ffff:10.0.0.1]/",
    "https://0.0.0.0/",
  ])("rejects %s as private in test mode (loopback only, not other private ranges)", (url) => {
    expect(code(url, "test")).toBe("webhook_url_private");
  });

  it("gives a message that does not echo the URL", () => {
    const result = validateWebhookUrl("https://user:hunter2@example.com/", "live");
    expect(result.ok).toBe(false);
    expect(!result.ok && result.message).not.toContain("hunter2");
  });
});

// Calls a LookupFunction and returns what it passed to its callback.
function runLookup(fn: LookupFunction, hostname: string, all: boolean) {
  return new Promise<{ err: NodeJS.ErrnoException | null; address: string | LookupAddress[]; family?: number }>(
    (resolve) => fn(hostname, { all }, (err, address, family) => resolve({ err, address, family })),
  );
}

// A resolver that answers from a fixed table, standing in for DNS (and for a rebinding attacker's DNS).
function fakeResolver(table: Record<string, LookupAddress[]>) {
  return (
    hostname: string,
    _options: object,
    callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
  ) => {
    const answer = table[hostname];
    if (answer) callback(null, answer);
    else callback(Object.assign(new Error("not found"), { code: "ENOTFOUND" }), []);
  };
}

describe("guardedLookup", () => {
  it("refuses localhost in live mode with code webhook_url_private (real resolver)", async () => {
    for (const all of [true, false]) {
      const { err } = await runLookup(guardedLookup("live"), "localhost", all);
      expect(err?.code).toBe("webhook_url_private");
    }
  });

  it("allows localhost in test mode, in both callback forms (real resolver)", async () => {
    const many = await runLookup(guardedLookup("test"), "localhost", true);
    expect(many.err).toBeNull();
    expect(Array.isArray(many.address) && many.address.every((a) => isLoopbackAddress(a.address))).toBe(true);
    const one = await runLookup(guardedLookup("test"), "localhost", false);
    expect(one.err).toBeNull();
    expect(typeof one.address === "string" && isLoopbackAddress(one.address)).toBe(true);
    expect([4, 6]).toContain(one.family);
  });

  const resolver = fakeResolver({
    "shop.example": [
      { address: "93.184.216.34", family: 4 },
      { address: "2606:4700::1", family: 6 },
    ],
    "rebind.example": [
      { address: "93.184.216.34", family: 4 },
      { address: "10.0.0.5", family: 4 },
    ],
    "metadata.example": [{ address: "::ffff:169.254.169.254", family: 6 }],
    "loop.example": [{ address: "127.0.0.1", family: 4 }],
    "empty.example": [],
  });

  it("passes public answers through in the requested form", async () => {
    const many = await runLookup(guardedLookup("live", resolver), "shop.example", true);
    expect(many).toEqual({
      err: null,
      address: [
        { address: "93.184.216.34", family: 4 },
        { address: "2606:4700::1", family: 6 },
      ],
      family: undefined,
    });
    const one = await runLookup(guardedLookup("live", resolver), "shop.example", false);
    expect(one).toEqual({ err: null, address: "93.184.216.34", family: 4 });
  });

  it.each(["rebind.example", "metadata.example", "empty.example"])("refuses %s in both modes", async (host) => {
    for (const mode of ["live", "test"] as const) {
      const { err } = await runLookup(guardedLookup(mode, resolver), host, true);
      expect(err?.code).toBe("webhook_url_private");
      expect(err?.message).not.toMatch(/10\.0\.0\.5|169\.254|example/);
    }
  });

  it("allows a name resolving to loopback in test mode only", async () => {
    expect((await runLookup(guardedLookup("live", resolver), "loop.example", false)).err?.code).toBe(
      "webhook_url_private",
    );
    expect((await runLookup(guardedLookup("test", resolver), "loop.example", false)).address).toBe("127.0.0.1");
  });

  it("passes resolver errors through", async () => {
    const { err } = await runLookup(guardedLookup("live", resolver), "missing.example", true);
    expect(err?.code).toBe("ENOTFOUND");
  });
});
