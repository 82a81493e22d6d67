import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, it, vi } from "vitest";
import { deliver, describeNetworkError } from "./sender.ts";
import { generateWebhookSecret } from "../merchants/webhook-secret.ts";
import { webhookHeaders } from "./signing.ts";

// Stand-in DNS for names an attacker controls: they pass the URL check (not IP literals, not localhost) and
// resolve to internal addresses only when we connect. Every other name goes to the real resolver.
vi.mock("node:dns", async (importOriginal) => {
  const actual = await importOriginal<typeof import("node:dns")>();
  const rebound: Record<string, string> = {
    "rebind-loop.mpay.test": "127.0.0.1",
    "rebind-private.mpay.test": "10.0.0.7",
  };
  const lookup = (hostname: string, options: object, callback: (...args: unknown[]) => void) => {
    const address = rebound[hostname];
    if (address === undefined) return actual.lookup(hostname, options, callback);
    callback(null, [{ address, family: 4 }]);
  };
  return { ...actual, default: { ...actual, lookup }, lookup };
});

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

// A receiver on 127.0.0.1 that records what reached it.
async function receiver(handler: Handler) {
  const seen = { connections: 0, requests: [] as { url: string; headers: IncomingMessage["headers"]; body: string }[] };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      seen.requests.push({ url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      handler(req, res);
    });
  });
  server.on("connection", () => seen.connections++);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.push(server);
  const { port } = server.address() as AddressInfo;
  return { port, seen, url: `http://127.0.0.1:${port}/hooks` };
}

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

const secret = generateWebhookSecret();
const body = JSON.stringify({ type: "payment.captured", data: { id: "pay_1" } });
const headers = () => webhookHeaders({ msgId: "msg_1", timestamp: Math.floor(Date.now() / 1000), body, secret });

describe("deliver", () => {
  it("is ok on 200 and the receiver can verify what arrived", async () => {
    const { url, seen } = await receiver((_req, res) => res.end("thanks"));
    const result = await deliver({ url, mode: "test", headers: headers(), body });
    expect(result).toMatchObject({ ok: true, statusCode: 200 });
    expect(result.error).toBeUndefined();
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
    const [request] = seen.requests;
    expect(request?.body).toBe(body);
    expect(request?.headers["content-type"]).toBe("application/json");
    const received = Object.fromEntries(
      Object.entries(request?.headers ?? {}).filter((e): e is [string, string] => typeof e[1] === "string"),
    );
    expect(new Webhook(secret).verify(request?.body ?? "", received)).toEqual(JSON.parse(body));
  });

  it("treats any 2xx as ok", async () => {
    const { url } = await receiver((_req, res) => res.writeHead(204).end());
    expect(await deliver({ url, mode: "test", headers: headers(), body })).toMatchObject({ ok: true, statusCode: 204 });
  });

  it("is not ok on 500 and reports the status only", async () => {
    const { url } = await receiver((_req, res) => res.writeHead(500).end(`stack trace with ${secret}`));
    const result = await deliver({ url, mode: "test", headers: headers(), body });
    expect(result).toMatchObject({ ok: false, statusCode: 500, error: "status 500" });
  });

  it("does not follow a 302", async () => {
    const { url, seen } = await receiver((req, res) => {
      if (req.url === "/hooks") res.writeHead(302, { location: "/elsewhere" }).end();
      else res.end();
    });
    const result = await deliver({ url, mode: "test", headers: headers(), body });
    expect(result).toMatchObject({ ok: false, statusCode: 302 });
    expect(result.error).toMatch(/redirect/);
    expect(seen.requests.map((r) => r.url)).toEqual(["/hooks"]);
  });

  it("times out on a server that never answers", async () => {
    const { url, seen } = await receiver(() => {});
    const result = await deliver({ url, mode: "test", headers: headers(), body, timeoutMs: 200 });
    expect(result).toEqual({ ok: false, error: "timeout", durationMs: expect.any(Number) });
    expect(result.durationMs).toBeGreaterThanOrEqual(190);
    expect(result.durationMs).toBeLessThan(2000);
    expect(seen.requests).toHaveLength(1);
  });

  it("stops reading after a few KiB of response body", async () => {
    // The server keeps writing forever; we must come back with the status without waiting for the timeout.
    const { url } = await receiver((_req, res) => {
      res.writeHead(200);
      const chunk = "x".repeat(1024);
      const pump = () => {
        while (res.write(chunk)) {}
        res.once("drain", pump);
      };
      pump();
    });
    const result = await deliver({ url, mode: "test", headers: headers(), body, timeoutMs: 5000 });
    expect(result).toMatchObject({ ok: true, statusCode: 200 });
    expect(result.durationMs).toBeLessThan(4000);
  });

  it("reports a refused connection", async () => {
    const { port } = await receiver(() => {});
    for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
    const result = await deliver({ url: `http://127.0.0.1:${port}/`, mode: "test", headers: headers(), body });
    expect(result).toMatchObject({ ok: false, error: "connection refused" });
  });

  it("reaches loopback in test mode through a hostname (guarded lookup allows it)", async () => {
    const { port, seen } = await receiver((_req, res) => res.end());
    const result = await deliver({ url: `http://localhost:${port}/hooks`, mode: "test", headers: headers(), body });
    // localhost may resolve to ::1 first; autoSelectFamily then falls back to 127.0.0.1.
    expect(result).toMatchObject({ ok: true, statusCode: 200 });
    expect(seen.requests).toHaveLength(1);
  });

  it("refuses 127.0.0.1 in live mode before connecting", async () => {
    const { port, seen } = await receiver((_req, res) => res.end());
    for (const url of [`http://127.0.0.1:${port}/hooks`, `https://127.0.0.1:${port}/hooks`]) {
      const result = await deliver({ url, mode: "live", headers: headers(), body });
      expect(result).toMatchObject({ ok: false, error: "address not allowed" });
      expect(result.statusCode).toBeUndefined();
    }
    expect(seen.connections).toBe(0);
  });

  it("refuses, when connecting, a public-looking name that resolves to a non-allowed address", async () => {
    const { port, seen } = await receiver((_req, res) => res.end());
    const attempts = [
      { url: `https://rebind-loop.mpay.test:${port}/`, mode: "live" as const },
      { url: `https://rebind-private.mpay.test:${port}/`, mode: "test" as const },
    ];
    for (const { url, mode } of attempts) {
      expect(await deliver({ url, mode, headers: headers(), body })).toMatchObject({
        ok: false,
        error: "address not allowed",
      });
    }
    expect(seen.connections).toBe(0);
  });

  it("rejects a URL that fails validation without a request", async () => {
    expect(await deliver({ url: "http://shop.example.com/", mode: "live", headers: headers(), body })).toMatchObject({
      ok: false,
      error: "https required",
    });
    expect(await deliver({ url: "nope", mode: "live", headers: headers(), body })).toMatchObject({
      ok: false,
      error: "invalid url",
    });
  });

  it("never puts headers, body or secret in the result", async () => {
    const { url } = await receiver((_req, res) => res.writeHead(500).end(secret));
    const h = headers();
    const outcomes = [
      await deliver({ url, mode: "test", headers: h, body }),
      await deliver({ url, mode: "live", headers: h, body }),
      await deliver({ url: "http://127.0.0.1:1/", mode: "test", headers: h, body }),
    ];
    for (const outcome of outcomes) {
      const text = JSON.stringify(outcome);
      for (const leak of [secret, body, h["webhook-signature"] ?? "?", "pay_1"]) expect(text).not.toContain(leak);
    }
  });
});

describe("describeNetworkError", () => {
  it.each([
    [{ code: "ECONNREFUSED" }, "connection refused"],
    [{ code: "ENOTFOUND" }, "dns lookup failed"],
    [{ code: "DEPTH_ZERO_SELF_SIGNED_CERT" }, "tls error"],
    [{ code: "ERR_TLS_CERT_ALTNAME_INVALID" }, "tls error"],
    [{ code: "HPE_INVALID_CONSTANT" }, "invalid http response"],
    [new AggregateError([Object.assign(new Error("x"), { code: "ECONNREFUSED" })]), "connection refused"],
    [new Error("something with a secret in it"), "network error"],
    ["weird", "network error"],
  ])("%o → %s", (err, expected) => expect(describeNetworkError(err)).toBe(expected));
});
