import { createHash } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WebServerConfig } from "./config.ts";
import { startWebServer, type RunningWebServer } from "./server.ts";

const SCRIPT = 'console.log("app");\n';
const STYLE = "body{margin:0}\n";
const INDEX = `<!doctype html>
<html lang="en">
  <head>
    <script type="module" crossorigin src="/assets/index-AbC123.js"></script>
    <link rel="stylesheet" crossorigin href="/assets/index-XyZ789.css">
    <link rel="icon" href="/favicon.svg">
  </head>
  <body><div id="root"></div></body>
</html>
`;
const sha384 = (text: string) => `sha384-${createHash("sha384").update(text).digest("base64")}`;

async function rootPublicKey() {
  const { publicKey } = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign"]);
  const { x, y } = await crypto.subtle.exportKey("jwk", publicKey);
  return { kid: "demo-root-1", jwk: { kty: "EC", crv: "P-256", x, y }, name: "Demo card network" };
}

let dir: string;
let server: RunningWebServer;
let roots: unknown;
const config = (overrides: Partial<WebServerConfig>): WebServerConfig => ({
  host: "127.0.0.1",
  port: 0,
  distDir: join(dir, "dist"),
  trustedRootsFile: join(dir, "roots.json"),
  webUrl: "http://127.0.0.1:4300",
  payUrl: "http://127.0.0.1:4000",
  messengerUrl: "http://127.0.0.1:4200",
  messengerWsUrl: "ws://127.0.0.1:4200/api/ws",
  ...overrides,
});

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "mpay-web-server-"));
  await mkdir(join(dir, "dist", "assets"), { recursive: true });
  await writeFile(join(dir, "dist", "index.html"), INDEX);
  await writeFile(join(dir, "dist", "assets", "index-AbC123.js"), SCRIPT);
  await writeFile(join(dir, "dist", "assets", "index-XyZ789.css"), STYLE);
  await writeFile(join(dir, "dist", "favicon.svg"), "<svg xmlns='http://www.w3.org/2000/svg'/>");
  await writeFile(join(dir, "dist", ".DS_Store"), "junk");
  roots = [await rootPublicKey()];
  await writeFile(join(dir, "roots.json"), JSON.stringify(roots));
  server = await startWebServer(config({}));
});

afterAll(async () => {
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const get = (path: string, init?: RequestInit) => fetch(`${server.url}${path}`, { redirect: "manual", ...init });

describe("the web server's security headers", () => {
  it("put the contract's Content-Security-Policy and the other headers on every answer, errors included", async () => {
    const policy =
      "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data: blob:; " +
      "font-src 'self'; connect-src 'self' http://127.0.0.1:4000 http://127.0.0.1:4200 ws://127.0.0.1:4200; " +
      "frame-ancestors 'none'; base-uri 'none'; form-action 'self' http://127.0.0.1:4000 http://127.0.0.1:4200";
    for (const answer of [
      await get("/"),
      await get("/assets/index-AbC123.js"),
      await get("/config.json"),
      await get("/assets/gone.js"),
      await get("/", { method: "POST" }),
    ]) {
      expect(answer.headers.get("content-security-policy")).toBe(policy);
      expect(answer.headers.get("x-content-type-options")).toBe("nosniff");
      expect(answer.headers.get("referrer-policy")).toBe("no-referrer");
      expect(answer.headers.get("cross-origin-opener-policy")).toBe("same-origin");
      expect(answer.headers.get("x-frame-options")).toBe("DENY");
    }
  });

  it("name the pay server and the messenger by origin, wherever they are", async () => {
    const elsewhere = await startWebServer(
      config({
        payUrl: "https://pay.example/base",
        messengerUrl: "https://talk.example:8443",
        messengerWsUrl: "wss://talk.example:8443/api/ws",
      }),
    );
    try {
      const policy = (await fetch(elsewhere.url)).headers.get("content-security-policy");
      expect(policy).toContain(
        "connect-src 'self' https://pay.example https://talk.example:8443 wss://talk.example:8443;",
      );
      expect(policy).toContain("form-action 'self' https://pay.example https://talk.example:8443");
    } finally {
      await elsewhere.stop();
    }
  });
});

describe("the web server's files", () => {
  it("serves index.html with the integrity of each script and stylesheet it serves, revalidated each time", async () => {
    const answer = await get("/");
    expect(answer.status).toBe(200);
    expect(answer.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(answer.headers.get("cache-control")).toBe("no-cache");
    const html = await answer.text();
    expect(html).toContain(
      `<script type="module" crossorigin src="/assets/index-AbC123.js" integrity="${sha384(SCRIPT)}"></script>`,
    );
    expect(html).toContain(
      `<link rel="stylesheet" crossorigin href="/assets/index-XyZ789.css" integrity="${sha384(STYLE)}">`,
    );
    // An icon is not code: no integrity needed.
    expect(html).toContain('<link rel="icon" href="/favicon.svg">');
    // The served bytes are the ones the integrity names.
    expect(await (await get("/assets/index-AbC123.js")).text()).toBe(SCRIPT);
  });

  it("answers every app path that is not a file with index.html (the client router shows the screen)", async () => {
    const index = await (await get("/")).text();
    for (const path of [
      "/checkout/pay_8a7b6c",
      "/open/pay/pay_8a7b6c",
      "/wallet/cards",
      "/chats/mpay?x=1",
      "/index.html",
    ]) {
      const answer = await get(path);
      expect(answer.status, path).toBe(200);
      expect(answer.headers.get("cache-control")).toBe("no-cache");
      expect(await answer.text()).toBe(index);
    }
  });

  it("caches hashed assets for a year and revalidates other files, with their content types", async () => {
    const script = await get("/assets/index-AbC123.js");
    expect(script.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(script.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    const style = await get("/assets/index-XyZ789.css");
    expect(style.headers.get("content-type")).toBe("text/css; charset=utf-8");
    const icon = await get("/favicon.svg");
    expect(icon.headers.get("cache-control")).toBe("no-cache");
    expect(icon.headers.get("content-type")).toBe("image/svg+xml");
    const head = await get("/assets/index-AbC123.js", { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe(String(Buffer.byteLength(SCRIPT)));
  });

  it("answers 404 for a missing asset instead of HTML, never serves dot files or paths outside the build", async () => {
    const missing = await get("/assets/index-Old999.js");
    expect(missing.status).toBe(404);
    expect((await missing.json()).error.code).toBe("asset_not_found");
    const index = await (await get("/")).text();
    expect(await (await get("/.DS_Store")).text()).toBe(index);
    expect(await (await get("/../../etc/passwd")).text()).toBe(index);
    expect(await (await get("/%2e%2e/roots.json")).text()).toBe(index);
  });

  it("refuses other methods with 405 and the methods it allows", async () => {
    const answer = await get("/checkout/pay_1", { method: "POST", body: "x" });
    expect(answer.status).toBe(405);
    expect(answer.headers.get("allow")).toBe("GET, HEAD");
    expect((await answer.json()).error.code).toBe("method_not_allowed");
  });
});

describe("GET /config.json", () => {
  it("tells where the pay server and the messenger are, and the roots the wallet trusts, never cached", async () => {
    const answer = await get("/config.json");
    expect(answer.status).toBe(200);
    expect(answer.headers.get("cache-control")).toBe("no-store");
    expect(await answer.json()).toEqual({
      payUrl: "http://127.0.0.1:4000",
      messengerUrl: "http://127.0.0.1:4200",
      messengerWsUrl: "ws://127.0.0.1:4200/api/ws",
      webUrl: "http://127.0.0.1:4300",
      trustedRoots: roots,
    });
  });
});

describe("starting the web server", () => {
  it("stops with a line that says what to do when the build or the roots are missing, or a root is private", async () => {
    await expect(startWebServer(config({ distDir: join(dir, "nowhere") }))).rejects.toThrow(
      /no web app build in .*nowhere: npm start builds it/,
    );
    await expect(startWebServer(config({ trustedRootsFile: join(dir, "none.json") }))).rejects.toThrow(
      /no card-network roots at .*none\.json: npm start makes the demo network's/,
    );
    const [root] = roots as [{ jwk: object }];
    await writeFile(join(dir, "private.json"), JSON.stringify([{ ...root, jwk: { ...root.jwk, d: "x".repeat(43) } }]));
    await expect(startWebServer(config({ trustedRootsFile: join(dir, "private.json") }))).rejects.toThrow(
      /private\.json is not a list of card-network root public keys/,
    );
  });

  it("refuses a build whose index.html has an inline script or a script from another origin", async () => {
    for (const [name, tag, error] of [
      ["inline", "<script>alert(1)</script>", /inline <script>/],
      [
        "foreign",
        '<script src="https://cdn.example/x.js"></script>',
        /loads https:\/\/cdn\.example\/x\.js from another origin/,
      ],
      [
        "missing",
        '<script type="module" src="/assets/gone.js"></script>',
        /loads \/assets\/gone\.js, which the build does not have/,
      ],
    ] as const) {
      const distDir = join(dir, `dist-${name}`);
      await mkdir(distDir, { recursive: true });
      await writeFile(join(distDir, "index.html"), `<!doctype html><head>${tag}</head>`);
      await expect(startWebServer(config({ distDir }))).rejects.toThrow(error);
    }
  });
});
