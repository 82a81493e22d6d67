/** CORS: the app API answers the web app's origin only; the official sender route and other origins get none. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestMessenger, type TestMessenger } from "../testing/messenger.ts";
import { createAccount } from "../testing/rp.ts";
import { callApi, signIn } from "../testing/app-client.ts";

const WEB = "http://localhost:4300";

describe("CORS of the messenger app API [pglite]", () => {
  let messenger: TestMessenger;
  let token: string;

  const preflight = (path: string, origin: string, method = "POST") =>
    fetch(`${messenger.url}${path}`, {
      method: "OPTIONS",
      headers: {
        origin,
        "access-control-request-method": method,
        "access-control-request-headers": "authorization,content-type",
      },
    });

  beforeAll(async () => {
    messenger = await openTestMessenger("pglite", { overrides: { webOrigin: WEB } });
    token = await signIn(messenger.url, await createAccount(messenger.url, "Cora"));
  });
  afterAll(async () => {
    await messenger?.close();
  });

  it("allows a preflight from the web app's origin, without credentials", async () => {
    for (const path of ["/api/chats", "/api/friends", "/api/sessions/current", "/api/chats/chat_x/messages"]) {
      const answer = await preflight(path, WEB, path.endsWith("current") ? "DELETE" : "POST");
      expect(answer.status, path).toBe(204);
      expect(answer.headers.get("access-control-allow-origin")).toBe(WEB);
      expect(answer.headers.get("access-control-allow-methods")).toBe("GET, POST, DELETE");
      expect(answer.headers.get("access-control-allow-headers")).toBe("authorization, content-type, idempotency-key");
      expect(answer.headers.get("access-control-allow-credentials")).toBeNull();
      expect(answer.headers.get("vary")).toContain("Origin");
    }
  });

  it("answers the web app's actual requests with its origin, errors included", async () => {
    const me = await callApi(messenger.url, "GET", "/api/me", { token, headers: { origin: WEB } });
    expect(me.status).toBe(200);
    expect(me.headers.get("access-control-allow-origin")).toBe(WEB);
    const refused = await callApi(messenger.url, "GET", "/api/me", { headers: { origin: WEB } });
    expect(refused.status).toBe(401);
    expect(refused.headers.get("access-control-allow-origin")).toBe(WEB);
  });

  it("gives another origin no allow-origin header", async () => {
    for (const origin of ["https://evil.example", "http://127.0.0.1:4301", "null"]) {
      const answer = await preflight("/api/chats", origin);
      expect(answer.headers.get("access-control-allow-origin"), origin).toBeNull();
      const me = await callApi(messenger.url, "GET", "/api/me", { token, headers: { origin } });
      expect(me.status).toBe(200);
      expect(me.headers.get("access-control-allow-origin"), origin).toBeNull();
    }
  });

  it("gives the official accounts' sender route and the pages none, even from the web app's origin", async () => {
    const official = await preflight("/api/official/mpay/messages", WEB);
    expect(official.headers.get("access-control-allow-origin")).toBeNull();
    const post = await fetch(`${messenger.url}/api/official/mpay/messages`, {
      method: "POST",
      headers: { origin: WEB, "content-type": "application/json" },
      body: "{}",
    });
    expect(post.status).toBe(401);
    expect(post.headers.get("access-control-allow-origin")).toBeNull();
    const page = await fetch(`${messenger.url}/signup`, { headers: { origin: WEB } });
    expect(page.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("follows MPAY_WEB_URL by default", async () => {
    const { loadConfig } = await import("../config.ts");
    expect(loadConfig({}).webOrigin).toBe(WEB);
    expect(loadConfig({ MPAY_WEB_URL: "https://app.example/messenger/" }).webOrigin).toBe("https://app.example");
  });
});
