/** The demo users' file and its fallback (demo-users.ts), on files written here as the pay server writes them. */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readDemoUsers } from "./demo-users.ts";

const OWNER = { email: "owner@demo-mall.test", password: "owner password", totpSecret: "JBSWY3DPEHPK3PXP" };
const ADMIN = { email: "admin@mpay.test", password: "admin password", totpSecret: "KRSXG5CTMVRXEZLU" };

describe("readDemoUsers", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "mpay-demo-users-"));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("reads the dashboard owner and the console admin from demo-users.json, before demo-merchant.json", async () => {
    await writeFile(join(dir, "demo-users.json"), JSON.stringify({ dashboard: OWNER, console: ADMIN }));
    await writeFile(
      join(dir, "demo-merchant.json"),
      JSON.stringify({ id: "mch_1", secretKey: "sk_test_1", dashboard: { ...OWNER, email: "old@demo-mall.test" } }),
    );
    await expect(readDemoUsers(dir)).resolves.toEqual({ dashboard: OWNER, console: ADMIN });
  });

  it("falls back to demo-merchant.json's dashboard owner, with no console admin, while demo-users.json is not written", async () => {
    await writeFile(
      join(dir, "demo-merchant.json"),
      JSON.stringify({ id: "mch_1", secretKey: "sk_test_1", dashboard: OWNER }),
    );
    await expect(readDemoUsers(dir)).resolves.toEqual({ dashboard: OWNER, console: undefined });
  });

  it("says which files are missing, and refuses a demo-users.json without the console admin", async () => {
    await expect(readDemoUsers(dir)).rejects.toThrow(/neither .*demo-users\.json nor .*demo-merchant\.json/);
    await writeFile(join(dir, "demo-users.json"), JSON.stringify({ dashboard: OWNER }));
    await expect(readDemoUsers(dir)).rejects.toThrow();
  });
});
