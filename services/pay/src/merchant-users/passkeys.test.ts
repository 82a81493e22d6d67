/**
 * Passkey sign-in for dashboard users: a signed-in user registers a discoverable passkey; the sign-in then needs no
 * email, answers the same session as the TOTP step, and refuses a used challenge, a replayed counter, a passkey
 * without user verification, a disabled user and API keys on the registration routes.
 */
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
} from "@simplewebauthn/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testBackends } from "../testing/databases.ts";
import { signedInUser } from "../testing/dashboard-users.ts";
import { SoftwareAuthenticator } from "../testing/software-authenticator.ts";
import { call, openTestPay, type TestPay } from "../testing/system.ts";

const RP = { rpId: "localhost", rpName: "MPay", origins: ["http://localhost:4300"] };
const ORIGIN = "http://localhost:4300";
type ErrorAnswer = { error: { code: string } };
type Session = { object: string; token: string; user: { id: string; role: string } };

describe.each(testBackends())("dashboard passkeys [%s]", (backend) => {
  let t: TestPay;
  beforeAll(async () => {
    t = await openTestPay(backend, { passkeys: RP });
  });
  afterAll(() => t.close());

  const register = async (token: string, authenticator: SoftwareAuthenticator, userVerified = true) => {
    const options = await call<PublicKeyCredentialCreationOptionsJSON>(
      t.app,
      "POST",
      "/v1/dashboard/passkeys/options",
      token,
      {},
    );
    expect(options.status).toBe(200);
    expect(options.body.authenticatorSelection).toMatchObject({
      residentKey: "required",
      userVerification: "required",
    });
    return call<{ id: string } & ErrorAnswer>(t.app, "POST", "/v1/dashboard/passkeys", token, {
      response: authenticator.create(options.body, { userVerified }),
    });
  };
  const signInOptions = async () =>
    (
      await call<PublicKeyCredentialRequestOptionsJSON>(
        t.app,
        "POST",
        "/v1/dashboard/sign-in/passkey/options",
        null,
        {},
      )
    ).body;
  const signIn = (response: AuthenticationResponseJSON) =>
    call<Session & ErrorAnswer>(t.app, "POST", "/v1/dashboard/sign-in/passkey", null, { response });

  it("registers a passkey for a signed-in user, then signs in with it alone", async () => {
    const user = await signedInUser(t, t.merchant.id, "developer");
    const authenticator = new SoftwareAuthenticator(ORIGIN);
    const registered = await register(user.token, authenticator);
    expect(registered.status).toBe(200);
    expect(registered.body.id).toBe(authenticator.credentialIds()[0]);

    const options = await signInOptions();
    expect(options.allowCredentials ?? []).toEqual([]);
    const session = await signIn(authenticator.get(options));
    expect(session.status).toBe(200);
    expect(session.body).toMatchObject({ object: "dashboard_session", user: { id: user.id, role: "developer" } });
    expect((await call(t.app, "GET", "/v1/payments", session.body.token)).status).toBe(200);

    // The same assertion again: its challenge is spent.
    const replay = await signIn(authenticator.get(options, { signCount: 50 }));
    expect([replay.status, replay.body.error.code]).toEqual([401, "passkey_challenge_invalid"]);
    // A counter that does not move forward (a cloned authenticator) is refused.
    const cloned = await signIn(authenticator.get(await signInOptions(), { signCount: 1 }));
    expect([cloned.status, cloned.body.error.code]).toEqual([401, "passkey_counter_invalid"]);
  });

  it("refuses a passkey without user verification, from another site, of a disabled user, and for API keys", async () => {
    const user = await signedInUser(t, t.merchant.id, "support");
    const unverified = await register(user.token, new SoftwareAuthenticator(ORIGIN), false);
    expect([unverified.status, unverified.body.error.code]).toEqual([401, "passkey_invalid"]);

    const authenticator = new SoftwareAuthenticator(ORIGIN);
    expect((await register(user.token, authenticator)).status).toBe(200);
    const noUv = await signIn(authenticator.get(await signInOptions(), { userVerified: false }));
    expect([noUv.status, noUv.body.error.code]).toEqual([401, "passkey_invalid"]);
    const phishing = await signIn(authenticator.get(await signInOptions(), { origin: "https://evil.example" }));
    expect([phishing.status, phishing.body.error.code]).toEqual([401, "passkey_invalid"]);

    const owner = await signedInUser(t, t.merchant.id, "owner");
    expect((await call(t.app, "POST", `/v1/dashboard/users/${user.id}`, owner.token, { disabled: true })).status).toBe(
      200,
    );
    const disabled = await signIn(authenticator.get(await signInOptions()));
    expect([disabled.status, disabled.body.error.code]).toEqual([401, "passkey_invalid"]);

    const byKey = await call<ErrorAnswer>(t.app, "POST", "/v1/dashboard/passkeys/options", t.merchant.secretKey, {});
    expect([byKey.status, byKey.body.error.code]).toEqual([403, "dashboard_session_required"]);
  });
});

describe("dashboard passkeys when the web app is at an IP address [pglite]", () => {
  let t: TestPay;
  beforeAll(async () => {
    t = await openTestPay("pglite", { passkeys: null });
  });
  afterAll(() => t.close());

  it("answers passkeys_unavailable; the password and TOTP still work", async () => {
    const answer = await call<ErrorAnswer>(t.app, "POST", "/v1/dashboard/sign-in/passkey/options", null, {});
    expect([answer.status, answer.body.error.code]).toEqual([409, "passkeys_unavailable"]);
    const user = await signedInUser(t, t.merchant.id, "owner");
    expect(user.token).toMatch(/^mds_/);
  });
});
