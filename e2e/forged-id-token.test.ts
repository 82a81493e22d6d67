/**
 * The pay server refuses ID tokens that are forged: signed with another key, for another audience, or expired.
 * A stand-in provider on loopback (discovery, JWKS, token endpoint) answers the code exchange with a token that
 * is wrong in exactly one way; the real messenger is tested in payer-signin.test.ts.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey as JoseKey } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, openTestPay, type TestPay } from "../services/pay/src/testing/system.ts";
import { landingOf, startSignIn } from "./support/payer-sign-in.ts";

type Forgery = "none" | "wrong-key" | "wrong-audience" | "expired" | "wrong-issuer" | "wrong-nonce";

describe("forged ID tokens [pglite]", () => {
  let server: Server;
  let issuer: string;
  let pay: TestPay;
  let forgery: Forgery = "none";
  let lastNonce = "";
  const keys: { real?: { privateKey: JoseKey; kid: string }; other?: { privateKey: JoseKey } } = {};

  beforeAll(async () => {
    const real = await generateKeyPair("ES256");
    const other = await generateKeyPair("ES256");
    keys.real = { privateKey: real.privateKey, kid: "real-key" };
    keys.other = { privateKey: other.privateKey };
    const jwk = { ...(await exportJWK(real.publicKey)), kid: "real-key", alg: "ES256", use: "sig" };
    server = createServer((req, res) => {
      const url = new URL(req.url ?? "/", issuer);
      const json = (status: number, body: unknown) =>
        res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
      if (url.pathname === "/.well-known/openid-configuration") {
        return json(200, {
          issuer,
          authorization_endpoint: `${issuer}/auth`,
          token_endpoint: `${issuer}/token`,
          jwks_uri: `${issuer}/jwks`,
          response_types_supported: ["code"],
          id_token_signing_alg_values_supported: ["ES256"],
          code_challenge_methods_supported: ["S256"],
          subject_types_supported: ["public"],
        });
      }
      if (url.pathname === "/jwks") return json(200, { keys: [jwk] });
      if (url.pathname === "/token") {
        void (async () => {
          const now = Math.floor(Date.now() / 1000);
          const token = await new SignJWT({
            nonce: forgery === "wrong-nonce" ? "another-nonce" : lastNonce,
            name: "Mallory",
          })
            .setProtectedHeader({ alg: "ES256", kid: "real-key" })
            .setSubject("acct_victim")
            .setIssuer(forgery === "wrong-issuer" ? "http://127.0.0.1:1/evil" : issuer)
            .setAudience(forgery === "wrong-audience" ? "some-other-client" : "mpay-pay")
            .setIssuedAt(forgery === "expired" ? now - 7200 : now)
            .setExpirationTime(forgery === "expired" ? now - 3600 : now + 600)
            .sign(forgery === "wrong-key" ? keys.other!.privateKey : keys.real!.privateKey);
          json(200, { access_token: "at", token_type: "Bearer", expires_in: 600, id_token: token });
        })();
        return;
      }
      json(404, { error: "not_found" });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    pay = await openTestPay("pglite", {
      messenger: { issuer, clientId: "mpay-pay", clientSecret: "s".repeat(40), clientSecretFile: "/nonexistent" },
    });
  });
  afterAll(async () => {
    await pay.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  /** A sign-in the stand-in provider answers: the wallet's landing carries a code, or the error it ended in. */
  async function signIn(): Promise<{ code: boolean; error?: string }> {
    const start = await startSignIn(pay.app);
    lastNonce = new URL(start.authorizationUrl).searchParams.get("nonce")!;
    const landing = await landingOf(pay.app, `code=any-code&state=${start.state}`);
    const error = landing.searchParams.get("error");
    return { code: landing.searchParams.has("code"), ...(error ? { error } : {}) };
  }

  it("accepts a correct token from the stand-in provider (so the refusals below are about the forgery)", async () => {
    forgery = "none";
    expect(await signIn()).toEqual({ code: true });
  });

  it.each(["wrong-key", "wrong-audience", "expired", "wrong-issuer", "wrong-nonce"] as const)(
    "refuses a token with %s",
    async (kind) => {
      forgery = kind;
      expect(await signIn()).toEqual({ code: false, error: "sign_in_invalid" });
    },
  );
});
