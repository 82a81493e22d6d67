import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../db/client.ts";
import { openPaySystem } from "../system.ts";
import { testBackends } from "../testing/databases.ts";
import { bindAndSetPin, newTestDevice, startLogin } from "../testing/payer-device.ts";
import { call, openTestPay, signedInPayer, type TestPay } from "../testing/system.ts";

type ErrorAnswer = { error: { code: string; message: string } };
const PIN = "428613";
const WRONG = "000000";

describe.each(testBackends())("payment PIN over OPAQUE [%s]", (backend) => {
  let t: TestPay;
  beforeAll(async () => {
    t = await openTestPay(backend);
  });
  afterAll(() => t.close());

  async function payerWithPin() {
    const session = await signedInPayer(t.system);
    const device = await newTestDevice(t.app, session.token);
    await bindAndSetPin(t.app, session, device, PIN);
    return { session, device };
  }
  const pinStatus = (token: string) =>
    call<{ set: boolean; locked: boolean; triesLeft: number }>(t.app, "GET", "/v1/payer/pin", token);
  const check = async (token: string, pin: string) => {
    const login = await startLogin(t.app, token, pin, "pin-check");
    if (login.answer.status !== 200) return login.answer;
    const finished = await login.finish();
    return call<ErrorAnswer & { verified: boolean }>(t.app, "POST", "/v1/payer/pin/login/finish", token, {
      loginId: login.answer.body.loginId,
      finishLoginRequest: finished.finishLoginRequest,
    });
  };

  it("sets a PIN only with an active device's signature, once, and verifies it", async () => {
    const session = await signedInPayer(t.system);
    const device = await newTestDevice(t.app, session.token);
    await call(t.app, "POST", "/v1/payer/devices", session.token, { publicKeyJwk: device.publicKeyJwk, name: "Phone" });
    const stranger = await newTestDevice(t.app, session.token);
    const bad = await call<ErrorAnswer>(t.app, "POST", "/v1/payer/pin", session.token, {
      registrationRecord: "A".repeat(256),
      deviceSignature: await stranger.sign({ purpose: "set-pin", payerId: session.payerId }),
    });
    expect(bad.body.error.code).toBe("device_signature_invalid");
    expect((await pinStatus(session.token)).body.set).toBe(false);

    const { session: s2 } = await payerWithPin();
    expect((await pinStatus(s2.token)).body).toMatchObject({ set: true, locked: false, triesLeft: 5 });
    const ok = await check(s2.token, PIN);
    expect(ok.body).toMatchObject({ verified: true });
    expect((await pinStatus(s2.token)).body.triesLeft).toBe(5);
  });

  it("counts a try at start: five wrong PINs lock it, and then the right PIN is refused", async () => {
    const { session } = await payerWithPin();
    for (let i = 0; i < 5; i++) {
      const login = await startLogin(t.app, session.token, WRONG, "pin-check");
      expect(login.answer.status).toBe(200);
      expect(login.answer.body.triesLeft).toBe(4 - i);
      await expect(login.finish()).rejects.toMatchObject({ code: "pin_incorrect" });
    }
    const right = await startLogin(t.app, session.token, PIN, "pin-check");
    expect([right.answer.status, right.answer.body.error?.code]).toEqual([403, "pin_locked"]);
    expect((await pinStatus(session.token)).body).toMatchObject({ locked: true, triesLeft: 0 });
    const [locks] = await queryRows<{ n: number }>(
      t.system.database.db,
      sql`select count(*)::int as n from audit_log where action = 'pin.locked' and target = ${session.payerId}`,
    );
    expect(Number(locks?.n)).toBe(1);
    // Each of the five wrong PINs is in the audit log (known on the device only, so recorded as unfinished tries).
    const [failures] = await queryRows<{ n: number }>(
      t.system.database.db,
      sql`select count(*)::int as n from audit_log where action = 'pin.failed' and target = ${session.payerId}`,
    );
    expect(Number(failures?.n)).toBe(5);
  });

  it("locks after five logins abandoned after the server's reply", async () => {
    const { session } = await payerWithPin();
    for (let i = 0; i < 5; i++)
      expect((await startLogin(t.app, session.token, PIN, "pin-check")).answer.status).toBe(200);
    expect((await check(session.token, PIN)).body.error?.code).toBe("pin_locked");
  });

  it("clears the count only on a verified finish", async () => {
    const { session } = await payerWithPin();
    for (let i = 0; i < 4; i++) await startLogin(t.app, session.token, WRONG, "pin-check");
    expect((await pinStatus(session.token)).body.triesLeft).toBe(1);
    expect((await check(session.token, PIN)).body).toMatchObject({ verified: true });
    expect((await pinStatus(session.token)).body.triesLeft).toBe(5);
  });

  it("refuses malformed OPAQUE messages without counting a try, and replays, expired purposes and swapped logins", async () => {
    const { session } = await payerWithPin();
    const garbage = await call<ErrorAnswer>(t.app, "POST", "/v1/payer/pin/login", session.token, {
      startLoginRequest: "AAAA",
      purpose: "pin-check",
    });
    expect([garbage.status, garbage.body.error.code]).toEqual([400, "opaque_message_invalid"]);
    const notBase64 = await call<ErrorAnswer>(t.app, "POST", "/v1/payer/pin/login", session.token, {
      startLoginRequest: "%%%",
      purpose: "pin-check",
    });
    expect(notBase64.status).toBe(400);
    expect((await pinStatus(session.token)).body.triesLeft).toBe(5);

    const login = await startLogin(t.app, session.token, PIN, "pin-check");
    const finished = await login.finish();
    const body = { loginId: login.answer.body.loginId, finishLoginRequest: finished.finishLoginRequest };
    expect((await call(t.app, "POST", "/v1/payer/pin/login/finish", session.token, body)).status).toBe(200);
    const replay = await call<ErrorAnswer>(t.app, "POST", "/v1/payer/pin/login/finish", session.token, body);
    expect(replay.body.error.code).toBe("pin_login_invalid");

    // A login started for a PIN change cannot be finished as a plain check (and vice versa).
    const forChange = await startLogin(t.app, session.token, PIN, "pin-change");
    const f2 = await forChange.finish();
    const misused = await call<ErrorAnswer>(t.app, "POST", "/v1/payer/pin/login/finish", session.token, {
      loginId: forChange.answer.body.loginId,
      finishLoginRequest: f2.finishLoginRequest,
    });
    expect(misused.body.error.code).toBe("pin_login_invalid");

    // Another payer cannot finish this payer's login.
    const other = await payerWithPin();
    const mine = await startLogin(t.app, session.token, PIN, "pin-check");
    const f3 = await mine.finish();
    const stolen = await call<ErrorAnswer>(t.app, "POST", "/v1/payer/pin/login/finish", other.session.token, {
      loginId: mine.answer.body.loginId,
      finishLoginRequest: f3.finishLoginRequest,
    });
    expect(stolen.body.error.code).toBe("pin_login_invalid");
    // A forged finish message for a real login fails and does not clear the count.
    const forged = await startLogin(t.app, session.token, PIN, "pin-check");
    const bad = await call<ErrorAnswer>(t.app, "POST", "/v1/payer/pin/login/finish", session.token, {
      loginId: forged.answer.body.loginId,
      finishLoginRequest: "B".repeat(86),
    });
    expect(bad.body.error.code).toMatch(/pin_login_invalid|opaque_message_invalid/);
    expect((await pinStatus(session.token)).body.triesLeft).toBeLessThan(5);
  });

  it("changes the PIN with the current one; the old PIN stops working", async () => {
    const { session } = await payerWithPin();
    const { startPinRegistration, finishPinRegistration } = await import("@mpay/wallet");
    const next = await startPinRegistration("975310", { keyStretching: "memory-constrained" });
    const response = await call<{ registrationResponse: string }>(
      t.app,
      "POST",
      "/v1/payer/pin/registration",
      session.token,
      { registrationRequest: next.registrationRequest },
    );
    const { registrationRecord } = await finishPinRegistration(next.state, response.body.registrationResponse);
    const login = await startLogin(t.app, session.token, PIN, "pin-change");
    const finished = await login.finish();
    const changed = await call(t.app, "POST", "/v1/payer/pin/change", session.token, {
      loginId: login.answer.body.loginId,
      finishLoginRequest: finished.finishLoginRequest,
      registrationRecord,
    });
    expect(changed.status).toBe(200);
    expect((await check(session.token, "975310")).body).toMatchObject({ verified: true });
    await expect((await startLogin(t.app, session.token, PIN, "pin-check")).finish()).rejects.toMatchObject({
      code: "pin_incorrect",
    });
  });

  it("cannot set or reset a PIN with a messenger session alone", async () => {
    const { session } = await payerWithPin();
    const noSignature = await call<ErrorAnswer>(t.app, "POST", "/v1/payer/pin", session.token, {
      registrationRecord: "A".repeat(256),
      deviceSignature: "x",
    });
    expect(noSignature.status).toBe(401);
    const again = await call<ErrorAnswer>(t.app, "POST", "/v1/payer/pin/change", session.token, {
      loginId: "pl_made_up",
      finishLoginRequest: "A".repeat(86),
      registrationRecord: "A".repeat(256),
    });
    expect(again.body.error.code).toBe("pin_login_invalid");
  });

  it("keeps verifying after a restart, and fails without the key provider's secret", async () => {
    const { session } = await payerWithPin();
    if (backend === "postgres") {
      // A second system on the same database with the same key file (a restart, or another process) verifies the PIN.
      const same = await openPaySystem({ ...t.config, dbPoolSize: 2 }, pino({ level: "silent" }));
      const payer = await same.payers.authenticate(`Bearer ${session.token}`);
      const login = await startLogin(t.app, session.token, PIN, "pin-check");
      const finished = await login.finish();
      const key = await same.pins.verifyLogin(
        payer,
        login.answer.body.loginId,
        finished.finishLoginRequest,
        "pin-check",
      );
      expect(key.length).toBe(64);
      await same.close();
      // The same database with another key provider's key: the OPAQUE setup cannot be opened, so nothing verifies.
      const otherKeys = await mkdtemp(join(tmpdir(), "mpay-otherkeys-"));
      const thief = await openPaySystem({ ...t.config, dataDir: otherKeys, dbPoolSize: 2 }, pino({ level: "silent" }));
      await expect(thief.pins.registrationResponse(payer, "A".repeat(44))).rejects.toMatchObject({
        code: "seal_invalid",
      });
      await thief.close();
      await rm(otherKeys, { recursive: true, force: true });
    }
    const rows = JSON.stringify(await queryRows(t.system.database.db, sql`select * from provider_secrets`));
    expect(rows).toMatch(/mk1\./); // sealed by the provider, never in clear
  });
});

// A race needs concurrent connections: PostgreSQL only (an empty list on a run without DATABASE_URL, not a skip).
describe.each(testBackends().filter((b) => b === "postgres"))("PIN lock race [%s]", (backend) => {
  let t: TestPay;
  beforeAll(async () => {
    t = await openTestPay(backend, { dbPoolSize: 20 });
  });
  afterAll(() => t.close());

  it("grants exactly five of 100 concurrent tries, and then refuses the right PIN", async () => {
    const session = await signedInPayer(t.system);
    const device = await newTestDevice(t.app, session.token);
    await bindAndSetPin(t.app, session, device, PIN);
    const attempts = await Promise.all(
      Array.from({ length: 100 }, () => startLogin(t.app, session.token, WRONG, "pin-check")),
    );
    const granted = attempts.filter((a) => a.answer.status === 200);
    expect(granted).toHaveLength(5);
    expect(attempts.filter((a) => a.answer.body.error?.code === "pin_locked")).toHaveLength(95);
    const right = await startLogin(t.app, session.token, PIN, "pin-check");
    expect(right.answer.body.error?.code).toBe("pin_locked");
  });
});
