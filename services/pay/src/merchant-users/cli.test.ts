/** `mpay merchant user add`: the temporary password is printed once and stored nowhere in clear. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshDatabase, testBackends, type FreshDatabase } from "../testing/databases.ts";
import { holdEmbeddedDatabase, mpay } from "../testing/mpay-cli.ts";

describe.each(testBackends())("mpay merchant user add [%s]", (backend) => {
  let dir: string;
  let database: FreshDatabase;
  let held: { close(): Promise<void> };
  const env = () => ({ MPAY_DATA_DIR: dir, ...(database.url ? { DATABASE_URL: database.url } : {}) });
  const run = (...args: string[]) => mpay(args, env());

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "mpay-cli-users-"));
    database = await freshDatabase(backend);
    held = await holdEmbeddedDatabase(env());
  });
  afterAll(async () => {
    await held.close();
    await database.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it("adds an owner, prints the temporary password once, and refuses the same email or bad input", async () => {
    const merchant = JSON.parse((await run("merchant", "create", "--name", "Corner Shop", "--json")).stdout) as {
      id: string;
    };
    const added = await run(
      "merchant",
      "user",
      "add",
      "--merchant",
      merchant.id,
      "--email",
      "Owner@Corner.Example",
      "--name",
      "Corner Owner",
      "--role",
      "owner",
    );
    expect(added.code).toBe(0);
    const password = /temporary password (\S+)/.exec(added.stdout)?.[1] ?? "";
    expect(password).toHaveLength(20);
    expect(added.stdout).toMatch(/^dashboard user mus_\S+ \(owner\) of mch_\S+: owner@corner\.example/);

    const exported = await run("audit", "export");
    expect(exported.stdout).toContain("merchant_user.created");
    expect(exported.stdout).not.toContain(password);

    const again = await run(
      "merchant",
      "user",
      "add",
      "--merchant",
      merchant.id,
      "--email",
      "owner@corner.example",
      "--name",
      "Again",
      "--role",
      "owner",
      "--json",
    );
    expect([again.code, again.stderr]).toEqual([1, expect.stringContaining("merchant_user_exists")]);
    const badRole = await run(
      "merchant",
      "user",
      "add",
      "--merchant",
      merchant.id,
      "--email",
      "x@corner.example",
      "--name",
      "X",
      "--role",
      "admin",
    );
    expect([badRole.code, badRole.stderr]).toEqual([1, expect.stringContaining("role")]);
    const missing = await run("merchant", "user", "add", "--merchant", merchant.id);
    expect([missing.code, missing.stderr]).toEqual([1, expect.stringContaining("--email")]);
    const noMerchant = await run(
      "merchant",
      "user",
      "add",
      "--merchant",
      "mch_01JNOSUCHMERCHANT000000000",
      "--email",
      "y@corner.example",
      "--name",
      "Y",
      "--role",
      "support",
    );
    expect(noMerchant.code).toBe(1);
  });
});
