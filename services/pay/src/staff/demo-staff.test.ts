/**
 * `npm start`'s demo console admin (issue 10): made once on a demo data folder, as staff role `admin` with its TOTP
 * seed already set up, its password and seed only in demo-users.json (mode 0600) beside the demo owner's, never on
 * stdout; the credentials in the file sign in to the console (password, then a code → an `sts_` session).
 */
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Secret } from "@mpay/protocol";
import { DEMO_OWNER_EMAIL, DEMO_STAFF_EMAIL, DEMO_USERS_FILE, ensureDemoOwner, ensureDemoStaff } from "../server.ts";
import { call, openTestPay, type TestPay } from "../testing/system.ts";
import { currentCode } from "../credentials/totp.ts";

type SignIn = { email: string; password: string; totpSecret: string };

async function printedBy(work: () => Promise<void>): Promise<string> {
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
  return printed.join("");
}

describe("the demo console admin [pglite]", () => {
  let t: TestPay;
  let usersFile: string;
  beforeEach(async () => {
    t = await openTestPay("pglite");
    usersFile = join(t.config.dataDir, DEMO_USERS_FILE);
    await writeFile(join(t.config.dataDir, "demo-merchant.json"), JSON.stringify({ id: t.merchant.id }), {
      mode: 0o600,
    });
  });
  afterEach(() => t.close());

  it("is made once beside the demo owner in demo-users.json (0600), printed by file name only, and signs in to the console", async () => {
    const printed = await printedBy(async () => {
      await ensureDemoOwner(t.system);
      await ensureDemoStaff(t.system);
    });
    const users = JSON.parse(await readFile(usersFile, "utf8")) as { dashboard: SignIn; console: SignIn };
    expect(Object.keys(users).sort()).toEqual(["console", "dashboard"]);
    expect(users.dashboard.email).toBe(DEMO_OWNER_EMAIL);
    expect(Object.keys(users.console).sort()).toEqual(["email", "password", "totpSecret"]);
    expect(users.console.email).toBe(DEMO_STAFF_EMAIL);
    expect(users.console.totpSecret).toMatch(/^[A-Z2-7]{16,}$/);
    expect(users.console.password).not.toBe(users.dashboard.password);
    expect((await stat(usersFile)).mode & 0o777).toBe(0o600);
    expect(printed).toContain(`Demo console admin ${DEMO_STAFF_EMAIL}: password and TOTP secret are in ${usersFile}`);
    for (const secret of [users.console.password, users.console.totpSecret, users.dashboard.password])
      expect(printed).not.toContain(secret);

    // Every later start changes nothing and makes no second staff member.
    const before = await readFile(usersFile, "utf8");
    expect(await printedBy(() => ensureDemoStaff(t.system))).toBe("");
    expect(await readFile(usersFile, "utf8")).toBe(before);
    const staff = await t.system.staff.list();
    expect(staff.map((s) => [s.email, s.role, s.name])).toEqual([[DEMO_STAFF_EMAIL, "admin", "Demo Operator"]]);

    // Through the service: the seed is already set up, so the password step asks for a code, not a setup.
    const challenge = await t.system.staff.signIn(users.console.email, users.console.password);
    expect(challenge.factor).toBe("totp");
    const session = await t.system.staff.confirmTotp(challenge.challenge, currentCode(users.console.totpSecret));
    expect(session.token).toMatch(/^sts_/);
    expect(session.staff).toMatchObject({ email: DEMO_STAFF_EMAIL, role: "admin" });
    // The session opens the admin's console routes.
    const merchants = await call<{ data: Array<{ id: string }> }>(t.app, "GET", "/v1/staff/merchants", session.token);
    expect(merchants.status).toBe(200);
    expect(merchants.body.data.map((m) => m.id)).toContain(t.merchant.id);
  });

  it("is not made again over a staff member already holding its email, nor without a demo merchant", async () => {
    await t.system.staff.create({
      email: DEMO_STAFF_EMAIL,
      name: "Someone Real",
      role: "support",
      actor: "operator:cli",
      password: new Secret("an operator's own password"),
    });
    expect(await printedBy(() => ensureDemoStaff(t.system))).toBe("");
    await expect(stat(usersFile)).rejects.toThrow(/ENOENT/);
    expect((await t.system.staff.list()).map((s) => [s.name, s.role])).toEqual([["Someone Real", "support"]]);

    const other = await openTestPay("pglite");
    try {
      expect(await printedBy(() => ensureDemoStaff(other.system))).toBe("");
      expect(await other.system.staff.list()).toEqual([]);
    } finally {
      await other.close();
    }
  });
});
