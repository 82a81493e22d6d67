/**
 * Device binding and revocation under the power order (DESIGN.md "Authentication without plugins"; issue 7): the
 * device's word alone never binds a device that can pay, never cancels a pending change and never revokes another
 * device; every statement carries a single-use nonce.
 */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signStatement } from "@mpay/wallet";
import { TestClock } from "@mpay/service-kit";
import { queryRows } from "../db/client.ts";
import { testBackends } from "../testing/databases.ts";
import { bindAndSetPin, newTestDevice, startLogin, statementNonce, type TestDevice } from "../testing/payer-device.ts";
import { call, openTestPay, signedInPayer, type TestPay } from "../testing/system.ts";
import { MAX_DEVICES } from "./service.ts";

type Device = {
  id: string;
  status: string;
  keyThumbprint: string;
  activatesAt: string;
  approvedBy: string;
  error?: { code: string };
};
type ErrorAnswer = { error: { code: string; message: string } };
type Change = { id: string; kind: string; deviceId: string; revokesOtherDevices: boolean };
const PIN = "482916";
const WAIT = 3600;

describe.each(testBackends())("device binding under the power order [%s]", (backend) => {
  let t: TestPay;
  const clock = new TestClock();
  beforeAll(async () => {
    t = await openTestPay(backend, { deviceWaitingPeriodSeconds: WAIT, clock });
  });
  afterAll(() => t.close());

  const bind = (token: string, body: Record<string, unknown>) =>
    call<Device & ErrorAnswer>(t.app, "POST", "/v1/payer/devices", token, body);
  const devicesOf = async (token: string) =>
    Object.fromEntries(
      (await call<{ data: Device[] }>(t.app, "GET", "/v1/payer/devices", token)).body.data.map((d) => [d.id, d.status]),
    );
  /** A PIN proof for `purpose`, as the wallet makes one (a finished OPAQUE login). */
  const pinProof = async (token: string, purpose: string, pin = PIN) => {
    const login = await startLogin(t.app, token, pin, purpose);
    const finished = await login.finish();
    return { loginId: login.answer.body.loginId, finishLoginRequest: finished.finishLoginRequest };
  };

  /** A payer with a first device (its phone) bound and a PIN set. */
  async function payerWithPhone(name = "Kim") {
    const payer = await signedInPayer(t.system, name);
    const phone = await newTestDevice(t.app, payer.token, clock);
    await bindAndSetPin(t.app, payer, phone, PIN);
    const phoneId = Object.keys(await devicesOf(payer.token))[0]!;
    return { payer, phone, phoneId };
  }

  /** A second device bound with the phone's word and the PIN: pending for the waiting period. */
  async function pendingDevice(
    p: Awaited<ReturnType<typeof payerWithPhone>>,
    name = "Laptop",
  ): Promise<{ device: TestDevice; row: Device }> {
    const device = await newTestDevice(t.app, p.payer.token, clock);
    const approval = await p.phone.sign({ purpose: "bind-device", payerId: p.payer.payerId, deviceKey: device.kid });
    const answer = await bind(p.payer.token, {
      publicKeyJwk: device.publicKeyJwk,
      name,
      approval,
      pin: await pinProof(p.payer.token, `bind-device:${device.kid}`),
    });
    expect(answer.status, answer.body.error?.code).toBe(200);
    return { device, row: answer.body };
  }

  it("binds the first device on sign-in; a second needs an active device's word AND the PIN, then waits, announced as a pending change", async () => {
    const p = await payerWithPhone();
    const laptop = await newTestDevice(t.app, p.payer.token, clock);
    expect((await bind(p.payer.token, { publicKeyJwk: laptop.publicKeyJwk, name: "Laptop" })).body.error.code).toBe(
      "device_approval_required",
    );
    // The phone's word alone (a stolen phone) binds nothing.
    const approval = await p.phone.sign({ purpose: "bind-device", payerId: p.payer.payerId, deviceKey: laptop.kid });
    const wordOnly = await bind(p.payer.token, { publicKeyJwk: laptop.publicKeyJwk, name: "Laptop", approval });
    expect([wordOnly.status, wordOnly.body.error.code]).toEqual([403, "pin_proof_required"]);
    // A PIN proof for another purpose or another key is worthless here.
    const otherKey = await bind(p.payer.token, {
      publicKeyJwk: laptop.publicKeyJwk,
      name: "Laptop",
      approval,
      pin: await pinProof(p.payer.token, `bind-device:${p.phone.kid}`),
    });
    expect(otherKey.body.error.code).toBe("pin_login_invalid");

    const { row } = await pendingDevice(p);
    expect(row).toMatchObject({ status: "pending", approvedBy: `device:${p.phoneId}` });
    expect(new Date(row.activatesAt).getTime()).toBeGreaterThan(clock.now().getTime() + (WAIT - 100) * 1000);
    const changes = await call<{ data: Change[] }>(t.app, "GET", "/v1/payer/pending-changes", p.payer.token);
    expect(changes.body.data).toEqual([
      expect.objectContaining({ id: row.id, kind: "device", deviceId: row.id, revokesOtherDevices: false }),
    ]);
    expect(
      await t.system.devices.activeDevice(
        p.payer.payerId,
        (await t.system.devices.list(await t.system.payers.authenticate(`Bearer ${p.payer.token}`))).find(
          (d) => d.id === row.id,
        )!.keyThumbprint,
      ),
    ).toBeNull();
    expect((await t.system.audit.verify()).ok).toBe(true);
  });

  it("cancels a pending binding with a PIN proof, or on the waiting device's own word; never on another device's word alone", async () => {
    const p = await payerWithPhone();
    const { row } = await pendingDevice(p);
    const byPhoneWord = await call<ErrorAnswer>(t.app, "POST", `/v1/payer/devices/${row.id}/cancel`, p.payer.token, {
      signature: await p.phone.sign({ purpose: "cancel-device", payerId: p.payer.payerId, deviceId: row.id }),
    });
    expect([byPhoneWord.status, byPhoneWord.body.error.code]).toEqual([403, "pin_proof_required"]);
    // A session alone cannot "revoke" it either (revoking a waiting device is cancelling it).
    expect(
      (await call<ErrorAnswer>(t.app, "POST", `/v1/payer/devices/${row.id}/revoke`, p.payer.token, {})).body.error.code,
    ).toBe("pin_proof_required");
    const canceled = await call<Device>(t.app, "POST", `/v1/payer/devices/${row.id}/cancel`, p.payer.token, {
      pin: await pinProof(p.payer.token, `cancel-device:${row.id}`),
    });
    expect(canceled.body.status).toBe("canceled");

    const second = await pendingDevice(p, "Tablet");
    const withdrawn = await call<Device>(t.app, "POST", `/v1/payer/devices/${second.row.id}/cancel`, p.payer.token, {
      signature: await second.device.sign({
        purpose: "cancel-device",
        payerId: p.payer.payerId,
        deviceId: second.row.id,
      }),
    });
    expect(withdrawn.body.status).toBe("canceled");
    expect(
      (await call<{ data: Change[] }>(t.app, "GET", "/v1/payer/pending-changes", p.payer.token)).body.data,
    ).toEqual([]);
  });

  it("takes a device's statement once: a replay, a nonce of another payer, a made-up nonce and no nonce are refused", async () => {
    const p = await payerWithPhone();
    const other = await payerWithPhone("Other");
    const laptop = await newTestDevice(t.app, p.payer.token, clock);
    const pin = () => pinProof(p.payer.token, `bind-device:${laptop.kid}`);
    const statement = { purpose: "bind-device", payerId: p.payer.payerId, deviceKey: laptop.kid };
    const now = Math.floor(clock.now().getTime() / 1000);
    const cases: Array<[string, string]> = [
      ["no nonce", await signStatement(p.phone.privateKey, p.phone.kid, statement, { nowSeconds: now })],
      [
        "a made-up nonce",
        await signStatement(
          p.phone.privateKey,
          p.phone.kid,
          { ...statement, nonce: "A".repeat(32) },
          { nowSeconds: now },
        ),
      ],
      [
        "another payer's nonce",
        await signStatement(
          p.phone.privateKey,
          p.phone.kid,
          { ...statement, nonce: await statementNonce(t.app, other.payer.token) },
          { nowSeconds: now },
        ),
      ],
    ];
    for (const [why, approval] of cases) {
      const answer = await bind(p.payer.token, {
        publicKeyJwk: laptop.publicKeyJwk,
        name: "Laptop",
        approval,
        pin: await pin(),
      });
      expect([answer.status, answer.body.error.code], why).toEqual([401, "device_signature_invalid"]);
    }
    // A nonce expires with its statement's lifetime.
    const stale = await p.phone.sign(statement);
    clock.advance(301);
    expect(
      (
        await bind(p.payer.token, {
          publicKeyJwk: laptop.publicKeyJwk,
          name: "Laptop",
          approval: stale,
          pin: await pin(),
        })
      ).body.error.code,
    ).toBe("device_signature_invalid");
    // The right statement passes once.
    const approval = await p.phone.sign(statement);
    expect(
      (await bind(p.payer.token, { publicKeyJwk: laptop.publicKeyJwk, name: "Laptop", approval, pin: await pin() }))
        .body.status,
    ).toBe("pending");
    // Any statement is good once: the same JWS a second time finds its nonce spent.
    const payer = await t.system.payers.authenticate(`Bearer ${p.payer.token}`);
    const removal = await p.phone.sign({ purpose: "remove-card", payerId: p.payer.payerId, cardId: "card_x" });
    await t.system.devices.verifyStatement(payer, removal, {
      purpose: "remove-card",
      payerId: p.payer.payerId,
      cardId: "card_x",
    });
    await expect(
      t.system.devices.verifyStatement(payer, removal, {
        purpose: "remove-card",
        payerId: p.payer.payerId,
        cardId: "card_x",
      }),
    ).rejects.toMatchObject({ code: "device_signature_invalid" });
    // Spent nonces are gone; the stale one is swept once expired.
    expect(await t.system.devices.purgeStatementNonces()).toBeGreaterThanOrEqual(1);
    const [row] = await queryRows<{ n: number }>(
      t.system.database.db,
      sql`select count(*)::int as n from statement_nonces where payer_id = ${p.payer.payerId}`,
    );
    expect(row?.n).toBe(0);
  });

  it("refuses approvals that are forged, for another key, payer or action, stale, or signed by a pending device", async () => {
    const p = await payerWithPhone();
    const laptop = await newTestDevice(t.app, p.payer.token, clock);
    const tablet = await newTestDevice(t.app, p.payer.token, clock);
    const stranger = await newTestDevice(t.app, p.payer.token, clock);
    const now = Math.floor(clock.now().getTime() / 1000);
    const cases: Array<[string, string]> = [
      [
        "signed by a key that is not bound",
        await stranger.sign({ purpose: "bind-device", payerId: p.payer.payerId, deviceKey: laptop.kid }, now),
      ],
      [
        "approving another key",
        await p.phone.sign({ purpose: "bind-device", payerId: p.payer.payerId, deviceKey: tablet.kid }, now),
      ],
      [
        "for another payer",
        await p.phone.sign({ purpose: "bind-device", payerId: "usr_someone", deviceKey: laptop.kid }, now),
      ],
      [
        "another action",
        await p.phone.sign({ purpose: "cancel-device", payerId: p.payer.payerId, deviceKey: laptop.kid }, now),
      ],
      [
        "stale",
        await p.phone.sign({ purpose: "bind-device", payerId: p.payer.payerId, deviceKey: laptop.kid }, now - 600),
      ],
      ["not a JWS", "not.a.jws"],
    ];
    for (const [why, approval] of cases) {
      const answer = await bind(p.payer.token, {
        publicKeyJwk: laptop.publicKeyJwk,
        name: "Laptop",
        approval,
        pin: await pinProof(p.payer.token, `bind-device:${laptop.kid}`),
      });
      expect([answer.status, answer.body.error.code], why).toEqual([401, "device_signature_invalid"]);
    }
    const { device: pendingLaptop } = await pendingDevice(p);
    const byPending = await bind(p.payer.token, {
      publicKeyJwk: tablet.publicKeyJwk,
      name: "Tablet",
      approval: await pendingLaptop.sign({ purpose: "bind-device", payerId: p.payer.payerId, deviceKey: tablet.kid }),
      pin: await pinProof(p.payer.token, `bind-device:${tablet.kid}`),
    });
    expect(byPending.body.error.code).toBe("device_not_active");
  });

  it("refuses another payer's device, a key bound twice, a bad key, and more than the limit", async () => {
    const alice = await payerWithPhone("Alice");
    const bob = await signedInPayer(t.system, "Bob");
    expect((await bind(bob.token, { publicKeyJwk: alice.phone.publicKeyJwk, name: "Phone" })).body.error.code).toBe(
      "device_already_bound",
    );
    expect(
      (await call<ErrorAnswer>(t.app, "POST", `/v1/payer/devices/${alice.phoneId}/revoke`, bob.token)).body.error.code,
    ).toBe("resource_missing");
    const notOnCurve = { kty: "EC", crv: "P-256", x: "A".repeat(43), y: "A".repeat(43) };
    expect((await bind(alice.payer.token, { publicKeyJwk: notOnCurve, name: "Bad" })).body.error.code).toBe(
      "parameter_invalid",
    );
    expect(
      (await bind(alice.payer.token, { publicKeyJwk: { ...alice.phone.publicKeyJwk, d: "secret" }, name: "Bad" })).body
        .error.code,
    ).toBe("parameter_unknown");
    for (let i = 1; i < MAX_DEVICES; i++) await pendingDevice(alice, `Extra ${i}`);
    const onceTooMany = await newTestDevice(t.app, alice.payer.token, clock);
    const refused = await bind(alice.payer.token, {
      publicKeyJwk: onceTooMany.publicKeyJwk,
      name: "Sixth",
      approval: await alice.phone.sign({
        purpose: "bind-device",
        payerId: alice.payer.payerId,
        deviceKey: onceTooMany.kid,
      }),
      pin: await pinProof(alice.payer.token, `bind-device:${onceTooMany.kid}`),
    });
    expect([refused.status, refused.body.error.code]).toEqual([409, "device_limit_reached"]);
  });

  it("revokes a device on its own word, another only with the PIN as well, and a revoked device's word counts no more", async () => {
    const p = await payerWithPhone();
    const { device: laptop, row } = await pendingDevice(p);
    clock.advance(WAIT + 1);
    expect((await devicesOf(p.payer.token))[row.id]).toBe("active");
    // A messenger session alone, and the laptop's word alone, cannot revoke the phone.
    expect(
      (await call<ErrorAnswer>(t.app, "POST", `/v1/payer/devices/${p.phoneId}/revoke`, p.payer.token, {})).body.error
        .code,
    ).toBe("device_approval_required");
    const wordOnly = await call<ErrorAnswer>(t.app, "POST", `/v1/payer/devices/${p.phoneId}/revoke`, p.payer.token, {
      signature: await laptop.sign({ purpose: "revoke-device", payerId: p.payer.payerId, deviceId: p.phoneId }),
    });
    expect([wordOnly.status, wordOnly.body.error.code]).toEqual([403, "pin_proof_required"]);
    expect((await devicesOf(p.payer.token))[p.phoneId]).toBe("active");
    // With the PIN, the laptop revokes the phone.
    const revoked = await call<Device>(t.app, "POST", `/v1/payer/devices/${p.phoneId}/revoke`, p.payer.token, {
      signature: await laptop.sign({ purpose: "revoke-device", payerId: p.payer.payerId, deviceId: p.phoneId }),
      pin: await pinProof(p.payer.token, `revoke-device:${p.phoneId}`),
    });
    expect(revoked.body.status).toBe("revoked");
    expect(await t.system.devices.activeDevice(p.payer.payerId, p.phone.kid)).toBeNull();
    // The laptop revokes itself on its own word.
    const self = await call<Device>(t.app, "POST", `/v1/payer/devices/${row.id}/revoke`, p.payer.token, {
      signature: await laptop.sign({ purpose: "revoke-device", payerId: p.payer.payerId, deviceId: row.id }),
    });
    expect(self.body.status).toBe("revoked");
    // Revoking every device does not reopen "first device binds on sign-in": recovery goes through the issuer.
    const next = await newTestDevice(t.app, p.payer.token, clock);
    expect((await bind(p.payer.token, { publicKeyJwk: next.publicKeyJwk, name: "New phone" })).body.error.code).toBe(
      "device_approval_required",
    );
    const byRevoked = await bind(p.payer.token, {
      publicKeyJwk: next.publicKeyJwk,
      name: "New phone",
      approval: await p.phone.sign({ purpose: "bind-device", payerId: p.payer.payerId, deviceKey: next.kid }),
      pin: await pinProof(p.payer.token, `bind-device:${next.kid}`),
    });
    expect(byRevoked.body.error.code).toBe("device_not_active");
  });

  it("cancels, with a revoked device, the bindings still waiting that it approved", async () => {
    const p = await payerWithPhone();
    const intruder = await pendingDevice(p, "Intruder");
    const tablet = await pendingDevice(p, "Tablet");
    await call(t.app, "POST", `/v1/payer/devices/${p.phoneId}/revoke`, p.payer.token, {
      signature: await p.phone.sign({ purpose: "revoke-device", payerId: p.payer.payerId, deviceId: p.phoneId }),
    });
    clock.advance(WAIT + 1);
    const status = await devicesOf(p.payer.token);
    expect([status[intruder.row.id], status[tablet.row.id]]).toEqual(["canceled", "canceled"]);
    expect(await t.system.devices.activeDevice(p.payer.payerId, intruder.device.kid)).toBeNull();
  });

  it("lets only one of several concurrent first binds through without approval", async () => {
    const payer = await signedInPayer(t.system);
    const keys = await Promise.all(Array.from({ length: 4 }, () => newTestDevice(t.app, payer.token, clock)));
    const answers = await Promise.all(
      keys.map((k, i) => bind(payer.token, { publicKeyJwk: k.publicKeyJwk, name: `Device ${i}` })),
    );
    expect(answers.filter((a) => a.status === 200 && a.body.status === "active")).toHaveLength(1);
    expect(answers.filter((a) => a.body.error?.code === "device_approval_required")).toHaveLength(3);
  });

  it("needs a payer session for every device route", async () => {
    const key = (await newTestDevice(t.app, (await signedInPayer(t.system)).token, clock)).publicKeyJwk;
    for (const [method, url] of [
      ["GET", "/v1/payer/devices"],
      ["POST", "/v1/payer/devices"],
      ["GET", "/v1/payer/pending-changes"],
      ["POST", "/v1/payer/statement-nonces"],
    ] as const) {
      const answer = await call<ErrorAnswer>(
        t.app,
        method,
        url,
        t.merchant.secretKey,
        method === "POST" ? (url.endsWith("devices") ? { publicKeyJwk: key, name: "x" } : {}) : undefined,
      );
      expect(answer.status, url).toBe(401);
    }
  });
});
