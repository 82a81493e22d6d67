/** `/config.json` as the app reads it: the roots are a plain array (demo-roots.json's shape); anything else is refused. */
import { describe, expect, it } from "vitest";
import { parseWebConfig, WebConfigError } from "./config.ts";

async function rootPublicKey(kid: string) {
  const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
  const { x, y } = await crypto.subtle.exportKey("jwk", pair.publicKey);
  return { kid, jwk: { kty: "EC", crv: "P-256", x, y }, name: "Demo card network" };
}

const urls = {
  payUrl: "http://127.0.0.1:4100",
  messengerUrl: "http://127.0.0.1:4200",
  messengerWsUrl: "ws://127.0.0.1:4200/ws",
  webUrl: "http://127.0.0.1:4300",
};

describe("parseWebConfig", () => {
  it("takes the roots as the plain JSON array demo-roots.json holds", async () => {
    const roots = [await rootPublicKey("demo-root-1")];
    const config = parseWebConfig(JSON.parse(JSON.stringify({ ...urls, trustedRoots: roots })));
    expect(config.trustedRoots).toEqual(roots);
    expect(config.payUrl).toBe(urls.payUrl);
  });

  it("refuses a wrapped, empty or private roots file with a message that says what the file must be", async () => {
    const root = await rootPublicKey("demo-root-1");
    for (const trustedRoots of [{ roots: [root] }, [], [{ ...root, jwk: { ...root.jwk, d: root.jwk.x } }], undefined]) {
      expect(() => parseWebConfig({ ...urls, trustedRoots })).toThrow(WebConfigError);
      expect(() => parseWebConfig({ ...urls, trustedRoots })).toThrow(/trustedRoots must be a JSON array/);
    }
  });

  it("names a missing or malformed address and never echoes the document", async () => {
    const trustedRoots = [await rootPublicKey("demo-root-1")];
    expect(() => parseWebConfig({ ...urls, payUrl: "not a url", trustedRoots })).toThrow(
      "config.json: payUrl must be an absolute URL",
    );
    expect(() => parseWebConfig({ ...urls, messengerWsUrl: undefined, trustedRoots })).toThrow(/messengerWsUrl/);
    expect(() => parseWebConfig([trustedRoots])).toThrow("config.json must be a JSON object");
    const malformed = () => parseWebConfig({ ...urls, trustedRoots: [{ kid: "x", jwk: "echo-me", name: "n" }] });
    expect(malformed).toThrow(WebConfigError);
    expect(malformed).not.toThrow(/echo-me/);
  });
});
