/**
 * Provider state lives in the database, not in the process: after a restart on the same database the keys, the
 * subject, the browser's messenger session and issued access tokens are all still there.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as client from "openid-client";
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from "jose";
import { Browser } from "../testing/browser.ts";
import { testBackends } from "../testing/databases.ts";
import { openTestMessenger, PAY_REDIRECT, type TestMessenger } from "../testing/messenger.ts";
import { authorizationRequest, createAccount, exchange, relyingParty, signInThroughBrowser } from "../testing/rp.ts";
import { PAY_CLIENT_ID } from "../config.ts";

describe.each(testBackends())("provider state across a restart [%s]", (backend) => {
  let messenger: TestMessenger;

  beforeAll(async () => {
    messenger = await openTestMessenger(backend, { persistent: true });
  });
  afterAll(async () => {
    await messenger?.close();
  });

  it("keeps keys, subject, session, grant and access tokens", async () => {
    const account = await createAccount(messenger.url, "Jung Hoseok");
    const jwksBefore = (await (await fetch(`${messenger.issuer}/oidc/jwks`)).json()) as JSONWebKeySet;
    const pay = await relyingParty(messenger.issuer, PAY_CLIENT_ID, messenger.paySecret, PAY_REDIRECT);
    const browser = new Browser();
    const pending = await authorizationRequest(pay);
    const before = await exchange(pay, pending, await signInThroughBrowser(browser, pending, pay, account));
    const issuerBefore = messenger.issuer;

    await messenger.restart();
    expect(messenger.issuer).toBe(issuerBefore);

    // The same signing keys: the ID token signed before the restart verifies against the JWKS served after it.
    const jwksAfter = (await (await fetch(`${messenger.issuer}/oidc/jwks`)).json()) as JSONWebKeySet;
    expect(jwksAfter).toEqual(jwksBefore);
    const verified = await jwtVerify(before.id_token!, createLocalJWKSet(jwksAfter), {
      issuer: messenger.issuer,
      audience: PAY_CLIENT_ID,
    });
    expect(verified.payload.sub).toBe(account.id);

    // The access token issued before is still known (it is a row in the database, not process memory).
    const again = await relyingParty(messenger.issuer, PAY_CLIENT_ID, messenger.paySecret, PAY_REDIRECT);
    expect(await client.fetchUserInfo(again.config, before.access_token, account.id)).toMatchObject({
      sub: account.id,
      name: "Jung Hoseok",
    });

    // The browser's messenger session (and its signed cookies) survive: the next sign-in needs no password and
    // reuses the recorded grant, and the subject is the same.
    const next = await authorizationRequest(again);
    const opened = await browser.open(next.url, PAY_REDIRECT);
    expect(opened.callback).toBeDefined();
    const after = await exchange(again, next, opened.callback!);
    expect(after.claims()).toMatchObject({ sub: account.id, phone_number: account.phoneNumber });
  });
});
