/**
 * The OPAQUE server steps on the worker pool (issue 11): the pool really starts here (worker threads, not the
 * fallback), and a login through it gives the client and the server the same session key, as inline.
 */
import * as opaque from "@serenity-kit/opaque";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inlineOpaqueServer, startOpaqueServer, type OpaqueServer } from "./opaque-server.ts";

describe("the OPAQUE server on a worker pool", () => {
  let pool: OpaqueServer;
  let serverSetup = "";
  let registrationRecord = "";
  const userIdentifier = "payer_test";
  const password = "428517";

  beforeAll(async () => {
    pool = await startOpaqueServer({
      threads: 2,
      onFallback: (error) => {
        throw error;
      },
    });
    await opaque.ready;
    serverSetup = opaque.server.createSetup();
    const { clientRegistrationState, registrationRequest } = opaque.client.startRegistration({ password });
    const { registrationResponse } = opaque.server.createRegistrationResponse({
      serverSetup,
      userIdentifier,
      registrationRequest,
    });
    registrationRecord = opaque.client.finishRegistration({
      clientRegistrationState,
      registrationResponse,
      password,
      keyStretching: "memory-constrained",
    }).registrationRecord;
  });
  afterAll(() => pool.close());

  async function login(server: OpaqueServer, pin: string) {
    const { clientLoginState, startLoginRequest } = opaque.client.startLogin({ password: pin });
    const { serverLoginState, loginResponse } = await server.startLogin({
      serverSetup,
      registrationRecord,
      startLoginRequest,
      userIdentifier,
    });
    const finished = opaque.client.finishLogin({
      clientLoginState,
      loginResponse,
      password: pin,
      keyStretching: "memory-constrained",
    });
    return { finished, serverLoginState };
  }

  it("starts as a pool of worker threads", () => {
    expect(pool.kind).toBe("pool");
  });

  it("finishes logins on the event loop: ~10 µs of work, less than a task through the pool costs", () => {
    expect(pool.finishLogin).toBe(inlineOpaqueServer.finishLogin);
  });

  it("verifies the right PIN with the same session key on both sides, several logins at once", async () => {
    const results = await Promise.all(
      [1, 2, 3, 4].map(async () => {
        const { finished, serverLoginState } = await login(pool, password);
        expect(finished).toBeDefined();
        const { sessionKey } = await pool.finishLogin({
          serverLoginState,
          finishLoginRequest: finished!.finishLoginRequest,
        });
        expect(sessionKey).toBe(finished!.sessionKey);
        return sessionKey;
      }),
    );
    expect(new Set(results).size).toBe(4);
  });

  it("refuses a wrong PIN and a forged finish, and a malformed start rejects (the service maps it to its code)", async () => {
    // A wrong PIN: the client cannot finish (the library answers undefined, it does not throw).
    const wrong = await login(pool, "000000");
    expect(wrong.finished).toBeUndefined();
    const right = await login(inlineOpaqueServer, password);
    const other = await login(pool, password);
    // A finish made for another login does not verify against this one's state.
    await expect(
      pool.finishLogin({
        serverLoginState: other.serverLoginState,
        finishLoginRequest: right.finished!.finishLoginRequest,
      }),
    ).rejects.toThrow();
    await expect(
      pool.startLogin({ serverSetup, registrationRecord, startLoginRequest: "not-opaque", userIdentifier }),
    ).rejects.toThrow();
  });
});
