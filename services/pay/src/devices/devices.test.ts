import { generateKeyPair } from "jose";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deviceKeyId, exportDevicePublicJwk, signStatement } from "@mpay/wallet";
import { testBackends } from "../testing/databases.ts";
import { call, openTestPay, signedInPayer, type TestPay } from "../testing/system.ts";
import { MAX_DEVICES } from "./service.ts";

type Device = { id: string; status: string; keyThumbprint: string; activatesAt: string; approvedBy: string; error?: { code: string } };
type ErrorAnswer = { error: { code: string; message: string } };

/** A device as the wallet makes one (its non-extractable P-256 key), signing with the wallet SDK's own code. */
async function newDevice() {
  const { privateKey, publicKey } = await generateKeyPair("ES256");
  const publicKeyJwk = await exportDevicePublicJwk(publicKey);
  const kid = await deviceKeyId(publicKeyJwk);
  const sign = (statement: { purpose: string } & Record<string, string>, nowSeconds = Math.floor(Date.now() / 1000)) =>
    signStatement(privateKey, kid, statement, { nowSeconds });
  return { publicKeyJwk, kid, sign };
}

describe.each(testBackends())("device binding [%s]", (backend) => {
  let t: TestPay;
  beforeAll(async () => {
    t = await openTestPay(backend, { deviceWaitingPeriodSeconds: 3600 });
  });
  afterAll(() => t.close());

  const bind = (token: string, body: Record<string, unknown>) => call<Device & ErrorAnswer>(t.app, "POST", "/v1/payer/devices", token, body);

  it("binds the first device on sign-in, and a second only with a bound device's approval and a waiting period", async () => {
    const payer = await signedInPayer(t.system);
    const phone = await newDevice();
    const first = await bind(payer.token, { publicKeyJwk: phone.publicKeyJwk, name: "Phone" });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ status: "active", approvedBy: "first-sign-in", keyThumbprint: phone.kid });

    const laptop = await newDevice();
    const alone = await bind(payer.token, { publicKeyJwk: laptop.publicKeyJwk, name: "Laptop" });
    expect([alone.status, alone.body.error.code]).toEqual([403, "device_approval_required"]);

    const approval = await phone.sign({ purpose: "bind-device", payerId: payer.payerId, deviceKey: laptop.kid });
    const second = await bind(payer.token, { publicKeyJwk: laptop.publicKeyJwk, name: "Laptop", approval });
    expect(second.body).toMatchObject({ status: "pending", approvedBy: `device:${first.body.id}` });
    expect(new Date(second.body.activatesAt).getTime()).toBeGreaterThan(Date.now() + 3500_000);
    const pending = await call<{ data: Device[] }>(t.app, "GET", "/v1/payer/pending-changes", payer.token);
    expect(pending.body.data.map((d) => d.id)).toEqual([second.body.id]);

    // The phone cancels the pending laptop.
    const cancel = await call<Device>(t.app, "POST", `/v1/payer/devices/${second.body.id}/cancel`, payer.token, {
      signature: await phone.sign({ purpose: "cancel-device", payerId: payer.payerId, deviceId: second.body.id }),
    });
    expect(cancel.body.status).toBe("canceled");
    expect((await t.system.devices.activeDevice(payer.payerId, laptop.kid))).toBeNull();
    expect((await t.system.audit.verify()).ok).toBe(true);
  });

  it("refuses approvals that are forged, replayed for another key, stale, or signed by a pending device", async () => {
    const payer = await signedInPayer(t.system);
    const phone = await newDevice();
    await bind(payer.token, { publicKeyJwk: phone.publicKeyJwk, name: "Phone" });
    const laptop = await newDevice();
    const tablet = await newDevice();
    const stranger = await newDevice();
    const cases: Array<[string, string]> = [
      ["signed by a key that is not bound", await stranger.sign({ purpose: "bind-device", payerId: payer.payerId, deviceKey: laptop.kid })],
      ["approving another key", await phone.sign({ purpose: "bind-device", payerId: payer.payerId, deviceKey: tablet.kid })],
      ["for another payer", await phone.sign({ purpose: "bind-device", payerId: "usr_someone", deviceKey: laptop.kid })],
      ["another action", await phone.sign({ purpose: "cancel-device", payerId: payer.payerId, deviceKey: laptop.kid })],
      ["stale", await phone.sign({ purpose: "bind-device", payerId: payer.payerId, deviceKey: laptop.kid }, Math.floor(Date.now() / 1000) - 600)],
      ["not a JWS", "not.a.jws"],
    ];
    for (const [why, approval] of cases) {
      const answer = await bind(payer.token, { publicKeyJwk: laptop.publicKeyJwk, name: "Laptop", approval });
      expect(answer.status, why).toBe(401);
      expect(answer.body.error.code, why).toBe("device_signature_invalid");
    }
    // A pending device cannot approve another one.
    const ok = await bind(payer.token, { publicKeyJwk: laptop.publicKeyJwk, name: "Laptop", approval: await phone.sign({ purpose: "bind-device", payerId: payer.payerId, deviceKey: laptop.kid }) });
    expect(ok.body.status).toBe("pending");
    const byPending = await bind(payer.token, { publicKeyJwk: tablet.publicKeyJwk, name: "Tablet", approval: await laptop.sign({ purpose: "bind-device", payerId: payer.payerId, deviceKey: tablet.kid }) });
    expect(byPending.body.error.code).toBe("device_signature_invalid");
  });

  it("refuses another payer's device, a key bound twice, a bad key, and more than the limit", async () => {
    const alice = await signedInPayer(t.system, "Alice");
    const bob = await signedInPayer(t.system, "Bob");
    const phone = await newDevice();
    const first = await bind(alice.token, { publicKeyJwk: phone.publicKeyJwk, name: "Phone" });
    expect((await bind(bob.token, { publicKeyJwk: phone.publicKeyJwk, name: "Phone" })).body.error.code).toBe("device_already_bound");
    expect((await call<ErrorAnswer>(t.app, "POST", `/v1/payer/devices/${first.body.id}/revoke`, bob.token)).body.error.code).toBe("resource_missing");
    const notOnCurve = { kty: "EC", crv: "P-256", x: "A".repeat(43), y: "A".repeat(43) };
    expect((await bind(alice.token, { publicKeyJwk: notOnCurve, name: "Bad" })).body.error.code).toBe("parameter_invalid");
    expect((await bind(alice.token, { publicKeyJwk: { ...phone.publicKeyJwk, d: "secret" }, name: "Bad" })).body.error.code).toBe("parameter_unknown");
    for (let i = 1; i < MAX_DEVICES; i++) {
      const extra = await newDevice();
      const answer = await bind(alice.token, { publicKeyJwk: extra.publicKeyJwk, name: `Extra ${i}`, approval: await phone.sign({ purpose: "bind-device", payerId: alice.payerId, deviceKey: extra.kid }) });
      expect(answer.status).toBe(200);
    }
    const onceTooMany = await newDevice();
    const refused = await bind(alice.token, { publicKeyJwk: onceTooMany.publicKeyJwk, name: "Sixth", approval: await phone.sign({ purpose: "bind-device", payerId: alice.payerId, deviceKey: onceTooMany.kid }) });
    expect([refused.status, refused.body.error.code]).toEqual([409, "device_limit_reached"]);
  });

  it("revokes at once, and a revoked device can no longer approve", async () => {
    const payer = await signedInPayer(t.system);
    const phone = await newDevice();
    const bound = await bind(payer.token, { publicKeyJwk: phone.publicKeyJwk, name: "Phone" });
    expect(await t.system.devices.activeDevice(payer.payerId, phone.kid)).not.toBeNull();
    // A messenger session alone cannot revoke an active device.
    const sessionOnly = await call<ErrorAnswer>(t.app, "POST", `/v1/payer/devices/${bound.body.id}/revoke`, payer.token);
    expect([sessionOnly.status, sessionOnly.body.error.code]).toEqual([403, "device_approval_required"]);
    const revoked = await call<Device>(t.app, "POST", `/v1/payer/devices/${bound.body.id}/revoke`, payer.token, {
      signature: await phone.sign({ purpose: "revoke-device", payerId: payer.payerId, deviceId: bound.body.id }),
    });
    expect(revoked.body.status).toBe("revoked");
    expect(await t.system.devices.activeDevice(payer.payerId, phone.kid)).toBeNull();
    const next = await newDevice();
    // Revoking every device does not reopen "first device binds on sign-in": recovery goes through the issuer.
    const alone = await bind(payer.token, { publicKeyJwk: next.publicKeyJwk, name: "New phone" });
    expect(alone.body.error.code).toBe("device_approval_required");
    const byRevoked = await bind(payer.token, { publicKeyJwk: next.publicKeyJwk, name: "New phone", approval: await phone.sign({ purpose: "bind-device", payerId: payer.payerId, deviceKey: next.kid }) });
    expect(byRevoked.body.error.code).toBe("device_signature_invalid");
    expect((await call<ErrorAnswer>(t.app, "POST", `/v1/payer/devices/${bound.body.id}/revoke`, payer.token)).body.error.code).toBe("device_not_active");
  });

  it("cancels, with a revoked device, the bindings still waiting that it approved", async () => {
    const payer = await signedInPayer(t.system);
    const phone = await newDevice();
    const tablet = await newDevice();
    const phoneRow = await bind(payer.token, { publicKeyJwk: phone.publicKeyJwk, name: "Phone" });
    // Someone holding the phone for a minute approves their own key...
    const intruder = await newDevice();
    const pending = await bind(payer.token, { publicKeyJwk: intruder.publicKeyJwk, name: "Intruder", approval: await phone.sign({ purpose: "bind-device", payerId: payer.payerId, deviceKey: intruder.kid }) });
    expect(pending.body.status).toBe("pending");
    const tabletRow = await bind(payer.token, { publicKeyJwk: tablet.publicKeyJwk, name: "Tablet", approval: await phone.sign({ purpose: "bind-device", payerId: payer.payerId, deviceKey: tablet.kid }) });
    // ...the payer revokes the phone (signing with it, before handing it in), and the intruder's binding dies too.
    await call(t.app, "POST", `/v1/payer/devices/${phoneRow.body.id}/revoke`, payer.token, {
      signature: await phone.sign({ purpose: "revoke-device", payerId: payer.payerId, deviceId: phoneRow.body.id }),
    });
    await t.system.database.db.execute(sql`update devices set activates_at = now() - interval '1 second' where payer_id = ${payer.payerId} and status = 'pending'`);
    const list = await call<{ data: Device[] }>(t.app, "GET", "/v1/payer/devices", payer.token);
    const status = Object.fromEntries(list.body.data.map((d) => [d.id, d.status]));
    expect(status[pending.body.id]).toBe("canceled");
    expect(status[tabletRow.body.id]).toBe("canceled");
    expect(await t.system.devices.activeDevice(payer.payerId, intruder.kid)).toBeNull();
  });

  it("lets only one of several concurrent first binds through without approval", async () => {
    const payer = await signedInPayer(t.system);
    const keys = await Promise.all(Array.from({ length: 4 }, () => newDevice()));
    const answers = await Promise.all(keys.map((k, i) => bind(payer.token, { publicKeyJwk: k.publicKeyJwk, name: `Device ${i}` })));
    expect(answers.filter((a) => a.status === 200 && a.body.status === "active")).toHaveLength(1);
    expect(answers.filter((a) => a.body.error?.code === "device_approval_required")).toHaveLength(3);
  });

  it("needs a payer session for every device route", async () => {
    for (const [method, url] of [["GET", "/v1/payer/devices"], ["POST", "/v1/payer/devices"], ["GET", "/v1/payer/pending-changes"]] as const) {
      const answer = await call<ErrorAnswer>(t.app, method, url, t.merchant.secretKey, method === "POST" ? { publicKeyJwk: (await newDevice()).publicKeyJwk, name: "x" } : undefined);
      expect(answer.status, url).toBe(401);
    }
  });
});
