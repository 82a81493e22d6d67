/**
 * `npm start`'s demo dashboard owner: made once beside the demo merchant, its password and TOTP seed only in the
 * demo merchant's 0600 file, never on stdout; the credentials in the file sign in.
 */
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { DEMO_OWNER_EMAIL, ensureDemoOwner } from "../server.ts";
import { call, openTestPay, type TestPay } from "../testing/system.ts";
import { currentCode } from "../credentials/totp.ts";

describe("the demo dashboard owner [pglite]", () => {
  let t: TestPay;
  beforeAll(async () => {
    t = await openTestPay("pglite");
  });
  afterAll(() => t.close());

  it("is written to the demo merchant's file once, signs in with it, and nothing secret is printed", async () => {
    const file = join(t.config.dataDir, "demo-merchant.json");
    await writeFile(file, JSON.stringify({ id: t.merchant.id, secretKey: t.merchant.secretKey }), { mode: 0o600 });
    const printed: string[] = [];
    const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
      printed.push(String(chunk));
      return true;
    });
    try {
      await ensureDemoOwner(t.system);
      await ensureDemoOwner(t.system); // a second start changes nothing
    } finally {
      spy.mockRestore();
    }
    const demo = JSON.parse(await readFile(file, "utf8")) as {
      secretKey: string;
      dashboard: { email: string; password: string; totpSecret: string };
    };
    expect(demo.secretKey).toBe(t.merchant.secretKey);
    expect(demo.dashboard.email).toBe(DEMO_OWNER_EMAIL);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(printed).toHaveLength(1);
    expect(printed[0]).toContain(file);
    expect(printed[0]).not.toContain(demo.dashboard.password);
    expect(printed[0]).not.toContain(demo.dashboard.totpSecret);

    const challenge = await call<{ challenge: string; factor: string }>(t.app, "POST", "/v1/dashboard/sign-in", null, {
      email: DEMO_OWNER_EMAIL,
      password: demo.dashboard.password,
    });
    expect([challenge.status, challenge.body.factor]).toEqual([200, "totp"]);
    const session = await call<{ user: { role: string; merchantId: string } }>(
      t.app,
      "POST",
      "/v1/dashboard/sign-in/totp",
      null,
      { challenge: challenge.body.challenge, code: currentCode(demo.dashboard.totpSecret) },
    );
    expect([session.status, session.body.user.role, session.body.user.merchantId]).toEqual([
      200,
      "owner",
      t.merchant.id,
    ]);
  });
});
