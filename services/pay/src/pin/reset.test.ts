import { finishPinRegistration, startPinRegistration } from "@mpay/wallet";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../db/client.ts";
import { testBackends } from "../testing/databases.ts";
import { bindAndSetPin, newTestDevice, startLogin } from "../testing/payer-device.ts";
import { call, openTestPay, signedInPayer, type TestPay } from "../testing/system.ts";
import { recordHash } from "./service.ts";

type ErrorAnswer = { error: { code: string } };
const OLD = "246801";
const NEW = "135790";

describe.each(testBackends())("PIN reset with a waiting period [%s]", (backend) => {
  let t: TestPay;
  beforeAll(async () => {
    t = await openTestPay(backend, { deviceWaitingPeriodSeconds: 3600 });
  });
  afterAll(() => t.close());

  async function newRecord(token: string, pin: string): Promise<string> {
    const start = await startPinRegistration(pin, { keyStretching: "memory-constrained" });
    const response = await call<{ registrationResponse: string }>(t.app, "POST", "/v1/payer/pin/registration", token, { registrationRequest: start.registrationRequest });
    return (await finishPinRegistration(start.state, response.body.registrationResponse)).registrationRecord;
  }

  async function lockedPayer() {
    const session = await signedInPayer(t.system);
    const phone = await newTestDevice();
    await bindAndSetPin(t.app, session, phone, OLD);
    for (let i = 0; i < 5; i++) await startLogin(t.app, session.token, "999999", "pin-check");
    expect((await startLogin(t.app, session.token, OLD, "pin-check")).answer.body.error?.code).toBe("pin_locked");
    return { session, phone };
  }

  it("resets a locked PIN from a bound device after the waiting period, not before", async () => {
    const { session, phone } = await lockedPayer();
    const record = await newRecord(session.token, NEW);
    const reset = await call<{ id: string; activatesAt: string }>(t.app, "POST", "/v1/payer/pin/resets", session.token, {
      registrationRecord: record,
      deviceSignature: await phone.sign({ purpose: "reset-pin", payerId: session.payerId, recordHash: recordHash(record) }),
    });
    expect(reset.status).toBe(200);
    expect((await call<{ data: unknown[] }>(t.app, "GET", "/v1/payer/pin/resets", session.token)).body.data).toHaveLength(1);
    // Still locked during the waiting period.
    expect((await startLogin(t.app, session.token, NEW, "pin-check")).answer.body.error?.code).toBe("pin_locked");
    // The waiting period ends.
    await t.system.database.db.execute(sql`update pin_resets set activates_at = now() - interval '1 second' where id = ${reset.body.id}`);
    const login = await startLogin(t.app, session.token, NEW, "pin-check");
    expect(login.answer.status).toBe(200);
    const finished = await login.finish();
    const verified = await call<{ verified: boolean }>(t.app, "POST", "/v1/payer/pin/login/finish", session.token, { loginId: login.answer.body.loginId, finishLoginRequest: finished.finishLoginRequest });
    expect(verified.body.verified).toBe(true);
    expect((await t.system.audit.verify()).ok).toBe(true);
  });

  it("lets the payer's devices cancel a pending reset", async () => {
    const { session, phone } = await lockedPayer();
    const record = await newRecord(session.token, NEW);
    const reset = await call<{ id: string }>(t.app, "POST", "/v1/payer/pin/resets", session.token, {
      registrationRecord: record,
      deviceSignature: await phone.sign({ purpose: "reset-pin", payerId: session.payerId, recordHash: recordHash(record) }),
    });
    const canceled = await call(t.app, "POST", `/v1/payer/pin/resets/${reset.body.id}/cancel`, session.token, {
      signature: await phone.sign({ purpose: "cancel-pin-reset", payerId: session.payerId, resetId: reset.body.id }),
    });
    expect(canceled.status).toBe(200);
    await t.system.database.db.execute(sql`update pin_resets set activates_at = now() - interval '1 second' where id = ${reset.body.id}`);
    expect((await startLogin(t.app, session.token, NEW, "pin-check")).answer.body.error?.code).toBe("pin_locked");
  });

  it("drops a reset whose requesting device was revoked before it took effect", async () => {
    const { session, phone } = await lockedPayer();
    const record = await newRecord(session.token, NEW);
    const reset = await call<{ id: string }>(t.app, "POST", "/v1/payer/pin/resets", session.token, {
      registrationRecord: record,
      deviceSignature: await phone.sign({ purpose: "reset-pin", payerId: session.payerId, recordHash: recordHash(record) }),
    });
    const devices = await call<{ data: Array<{ id: string }> }>(t.app, "GET", "/v1/payer/devices", session.token);
    const phoneId = devices.body.data[0]!.id;
    await call(t.app, "POST", `/v1/payer/devices/${phoneId}/revoke`, session.token, { signature: await phone.sign({ purpose: "revoke-device", payerId: session.payerId, deviceId: phoneId }) });
    await t.system.database.db.execute(sql`update pin_resets set activates_at = now() - interval '1 second' where id = ${reset.body.id}`);
    expect((await startLogin(t.app, session.token, NEW, "pin-check")).answer.body.error?.code).toBe("pin_locked");
  });

  it("allows one pending reset at a time, even when asked for concurrently", async () => {
    const { session, phone } = await lockedPayer();
    const records = await Promise.all([1, 2, 3].map(() => newRecord(session.token, NEW)));
    const answers = await Promise.all(
      records.map(async (record) =>
        call<ErrorAnswer>(t.app, "POST", "/v1/payer/pin/resets", session.token, {
          registrationRecord: record,
          deviceSignature: await phone.sign({ purpose: "reset-pin", payerId: session.payerId, recordHash: recordHash(record) }),
        }),
      ),
    );
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    expect(answers.filter((a) => a.body.error?.code === "pin_reset_pending")).toHaveLength(2);
    const [rows] = await queryRows<{ n: number }>(t.system.database.db, sql`select count(*)::int as n from pin_resets where payer_id = ${session.payerId} and status = 'pending'`);
    expect(Number(rows?.n)).toBe(1);
  });

  it("refuses a reset with a messenger session alone, a swapped record, or a stranger's device", async () => {
    const { session, phone } = await lockedPayer();
    const record = await newRecord(session.token, NEW);
    const other = await newRecord(session.token, "111111");
    const stranger = await newTestDevice();
    const attempts: Array<[string, Record<string, unknown>]> = [
      ["no signature", { registrationRecord: record, deviceSignature: "x" }],
      ["signature over another record", { registrationRecord: other, deviceSignature: await phone.sign({ purpose: "reset-pin", payerId: session.payerId, recordHash: recordHash(record) }) }],
      ["a stranger's device", { registrationRecord: record, deviceSignature: await stranger.sign({ purpose: "reset-pin", payerId: session.payerId, recordHash: recordHash(record) }) }],
      ["a statement for another purpose", { registrationRecord: record, deviceSignature: await phone.sign({ purpose: "set-pin", payerId: session.payerId }) }],
    ];
    for (const [why, body] of attempts) {
      const answer = await call<ErrorAnswer>(t.app, "POST", "/v1/payer/pin/resets", session.token, body);
      expect([answer.status, answer.body.error.code], why).toEqual([401, "device_signature_invalid"]);
    }
    expect((await call<{ data: unknown[] }>(t.app, "GET", "/v1/payer/pin/resets", session.token)).body.data).toHaveLength(0);
  });
});
