/**
 * `npm start`'s demo dashboard owner: made once beside the demo merchant, its password and TOTP seed only in
 * demo-users.json (mode 0600), never on stdout nor in the demo merchant's key file (the demo mall reads that one);
 * the credentials in the file sign in. A data folder made when the owner was kept in demo-merchant.json has it moved.
 */
import { readFile, readdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Secret } from "@mpay/protocol";
import { DEMO_OWNER_EMAIL, DEMO_USERS_FILE, ensureDemoOwner } from "../server.ts";
import { call, openTestPay, type TestPay } from "../testing/system.ts";
import { currentCode, newTotpSecret } from "../credentials/totp.ts";

type SignIn = { email: string; password: string; totpSecret: string };

/** Runs `work` and answers what it wrote to stdout. */
async function printedBy(work: () => Promise<void>): Promise<string[]> {
  const printed: string[] = [];
  const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
    printed.push(String(chunk));
    return true;
  });
  try {
    await work();
  } finally {
    spy.mockRestore();
  }
  return printed;
}

/** The dashboard's two sign-in steps over HTTP, with the password and a code of the seed. */
async function signIn(t: TestPay, who: SignIn): Promise<{ status: number; role?: string; merchantId?: string }> {
  const challenge = await call<{ challenge: string; factor: string }>(t.app, "POST", "/v1/dashboard/sign-in", null, {
    email: who.email,
    password: who.password,
  });
  expect([challenge.status, challenge.body.factor]).toEqual([200, "totp"]);
  const session = await call<{ user: { role: string; merchantId: string } }>(
    t.app,
    "POST",
    "/v1/dashboard/sign-in/totp",
    null,
    { challenge: challenge.body.challenge, code: currentCode(who.totpSecret) },
  );
  return { status: session.status, role: session.body.user?.role, merchantId: session.body.user?.merchantId };
}

describe("the demo dashboard owner [pglite]", () => {
  let t: TestPay;
  let merchantFile: string;
  let usersFile: string;
  beforeEach(async () => {
    t = await openTestPay("pglite");
    merchantFile = join(t.config.dataDir, "demo-merchant.json");
    usersFile = join(t.config.dataDir, DEMO_USERS_FILE);
  });
  afterEach(() => t.close());

  it("is written to demo-users.json once (0600), not to the merchant's key file, signs in, and nothing secret is printed", async () => {
    const keys = { id: t.merchant.id, secretKey: t.merchant.secretKey };
    await writeFile(merchantFile, JSON.stringify(keys), { mode: 0o600 });
    const printed = await printedBy(async () => {
      await ensureDemoOwner(t.system);
      await ensureDemoOwner(t.system); // a second start changes nothing
    });
    const users = JSON.parse(await readFile(usersFile, "utf8")) as { dashboard: SignIn };
    expect(Object.keys(users)).toEqual(["dashboard"]);
    expect(Object.keys(users.dashboard).sort()).toEqual(["email", "password", "totpSecret"]);
    expect(users.dashboard.email).toBe(DEMO_OWNER_EMAIL);
    expect(users.dashboard.totpSecret).toMatch(/^[A-Z2-7]{16,}$/);
    expect((await stat(usersFile)).mode & 0o777).toBe(0o600);
    // The demo mall's file holds its keys and nothing else; no temporary file is left behind.
    expect(JSON.parse(await readFile(merchantFile, "utf8"))).toEqual(keys);
    expect((await readdir(t.config.dataDir)).filter((name) => name.endsWith(".tmp"))).toEqual([]);

    expect(printed).toHaveLength(1);
    expect(printed[0]).toContain(usersFile);
    expect(printed[0]).not.toContain(users.dashboard.password);
    expect(printed[0]).not.toContain(users.dashboard.totpSecret);

    const before = await readFile(usersFile, "utf8");
    await printedBy(() => ensureDemoOwner(t.system));
    expect(await readFile(usersFile, "utf8")).toBe(before);

    expect(await signIn(t, users.dashboard)).toEqual({ status: 200, role: "owner", merchantId: t.merchant.id });
  });

  it("moves an owner kept in demo-merchant.json (a data folder made before demo-users.json) out of it, and it still signs in", async () => {
    // As the pay server made it then: the owner in the database, its credentials in the demo merchant's file.
    const old: SignIn = { email: DEMO_OWNER_EMAIL, password: "an older demo password", totpSecret: newTotpSecret() };
    const { user } = await t.system.merchantUsers.create({
      merchantId: t.merchant.id,
      email: old.email,
      name: "Demo Owner",
      role: "owner",
      actor: "system:first-start",
      password: new Secret(old.password),
    });
    await t.system.merchantUsers.setTotpSecret(user.id, new Secret(old.totpSecret));
    const keys = { id: t.merchant.id, secretKey: t.merchant.secretKey, publishableKey: t.merchant.publishableKey };
    await writeFile(merchantFile, JSON.stringify({ ...keys, dashboard: old }), { mode: 0o600 });

    const printed = await printedBy(async () => {
      await ensureDemoOwner(t.system);
      await ensureDemoOwner(t.system);
    });
    expect(JSON.parse(await readFile(merchantFile, "utf8"))).toEqual(keys);
    expect((await stat(merchantFile)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(usersFile, "utf8"))).toEqual({ dashboard: old });
    expect((await stat(usersFile)).mode & 0o777).toBe(0o600);
    // No second owner was made, so nothing was announced.
    expect(printed).toEqual([]);
    expect((await t.system.merchantUsers.list(t.merchant.id)).map((u) => u.email)).toEqual([DEMO_OWNER_EMAIL]);
    expect(await signIn(t, old)).toEqual({ status: 200, role: "owner", merchantId: t.merchant.id });
  });

  it("is not made without a demo merchant, nor on an operator's database", async () => {
    await printedBy(() => ensureDemoOwner(t.system));
    await writeFile(merchantFile, JSON.stringify({ id: t.merchant.id }), { mode: 0o600 });
    const onPostgres = { ...t.system, config: { ...t.system.config, databaseUrl: "postgres://elsewhere/db" } };
    await printedBy(() => ensureDemoOwner(onPostgres));
    await expect(stat(usersFile)).rejects.toThrow(/ENOENT/);
    expect(await t.system.merchantUsers.findByEmail(DEMO_OWNER_EMAIL)).toBeNull();
  });
});
