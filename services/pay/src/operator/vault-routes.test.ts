import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, openTestPay, type TestPay } from "../testing/system.ts";

// The shamir side of these routes is tested in keys/shamir/shamir-vault.test.ts; here, a provider with nothing to unseal.
describe("vault routes with the dev provider [pglite]", () => {
  let pay: TestPay;
  beforeAll(async () => {
    pay = await openTestPay("pglite");
  });
  afterAll(async () => {
    await pay.close();
  });

  it("answers the status without a merchant key", async () => {
    const answer = await call(pay.app, "GET", "/v1/vault/status", null);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      kind: "dev",
      initialized: true,
      sealed: false,
      currentKeyVersion: 1,
      keyVersions: [1],
    });
  });

  it("refuses shares with 409 vault_unseal_unsupported, and bad bodies with 400", async () => {
    const refused = await call(pay.app, "POST", "/v1/vault/unseal", null, { share: "mpvs1_abc" });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ error: { type: "conflict_error", code: "vault_unseal_unsupported" } });
    expect((await call(pay.app, "POST", "/v1/vault/unseal", null, { share: "x".repeat(201) })).status).toBe(400);
    expect(
      (await call(pay.app, "POST", "/v1/vault/unseal", null, { share: "mpvs1_abc", extra: 1 })).body,
    ).toMatchObject({ error: { code: "parameter_unknown" } });
  });
});
