/**
 * The relying party side of the sign-in tests: `openid-client` exactly as the pay server would use it (discovery,
 * PKCE S256, state, nonce, client_secret_basic), plus helpers to make accounts and to run a whole sign-in.
 */
import * as client from "openid-client";
import { Browser, readForm } from "./browser.ts";

export interface RelyingParty {
  config: client.Configuration;
  redirectUri: string;
}

export async function relyingParty(
  issuer: string,
  clientId: string,
  secret: string,
  redirectUri: string,
): Promise<RelyingParty> {
  const config = await client.discovery(
    new URL(issuer),
    clientId,
    { redirect_uris: [redirectUri] },
    client.ClientSecretBasic(secret),
    {
      // The test messenger speaks plain HTTP on 127.0.0.1; a deployment's issuer is https.
      execute: [client.allowInsecureRequests],
    },
  );
  return { config, redirectUri };
}

export interface PendingSignIn {
  url: URL;
  verifier: string;
  state: string;
  nonce: string;
}

export async function authorizationRequest(rp: RelyingParty, scope = "openid profile phone"): Promise<PendingSignIn> {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(rp.config, {
    redirect_uri: rp.redirectUri,
    scope,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
    state,
    nonce,
  });
  return { url, verifier, state, nonce };
}

export async function exchange(
  rp: RelyingParty,
  pending: PendingSignIn,
  callback: URL,
  overrides: Partial<Pick<PendingSignIn, "verifier" | "state">> = {},
) {
  return client.authorizationCodeGrant(rp.config, callback, {
    pkceCodeVerifier: overrides.verifier ?? pending.verifier,
    expectedState: overrides.state ?? pending.state,
    expectedNonce: pending.nonce,
    idTokenExpected: true,
  });
}

export interface TestAccount {
  id: string;
  phoneNumber: string;
  displayName: string;
  password: string;
}

let counter = 0;
/** A fresh, unique E.164 number per call (Korean mobile range). */
export function newPhoneNumber(): string {
  counter += 1;
  return `+8210${String(Date.now() % 10_000).padStart(4, "0")}${String(counter % 10_000).padStart(4, "0")}`;
}

export async function createAccount(
  baseUrl: string,
  displayName = "Kim Minji",
  password = `pw-${Math.random().toString(36).slice(2)}-long`,
): Promise<TestAccount> {
  const phoneNumber = newPhoneNumber();
  const response = await fetch(`${baseUrl}/api/accounts`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ phoneNumber, displayName, password }),
  });
  const body = (await response.json()) as { id: string };
  if (response.status !== 201) throw new Error(`account not created: ${response.status} ${JSON.stringify(body)}`);
  return { id: body.id, phoneNumber, displayName, password };
}

/** Runs the browser through the login page to the redirect URI; returns the callback URL the RP receives. */
export async function signInThroughBrowser(
  browser: Browser,
  pending: PendingSignIn,
  rp: RelyingParty,
  account: Pick<TestAccount, "phoneNumber" | "password">,
): Promise<URL> {
  const opened = await browser.open(pending.url, rp.redirectUri);
  if (opened.callback) return opened.callback;
  if (!opened.page) throw new Error("no login page");
  const form = readForm(opened.page.body, /\/login$/);
  const submitted = await browser.submit(
    opened.page,
    form,
    { phone: account.phoneNumber, password: account.password },
    rp.redirectUri,
  );
  if (!submitted.callback)
    throw new Error(
      `sign-in did not reach the redirect URI: ${submitted.page?.status} ${submitted.page?.body.slice(0, 500)}`,
    );
  return submitted.callback;
}
