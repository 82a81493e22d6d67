/** `mpay staff add`: the only way staff are made; the temporary password is printed once and stored nowhere in clear. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshDatabase, testBackends, type FreshDatabase } from "../testing/databases.ts";
import { holdEmbeddedDatabase, mpay } from "../testing/mpay-cli.ts";

describe.each(testBackends())("mpay staff add [%s]", (backend) => {
  let dir: string;
  let database: FreshDatabase;
  let held: { close(): Promise<void> };
  const env = () => ({ MPAY_DATA_DIR: dir, ...(database.url ? { DATABASE_URL: database.url } : {}) });
  const run = (...args: string[]) => mpay(args, env());

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "mpay-cli-staff-"));
    database = await freshDatabase(backend);
    held = await holdEmbeddedDatabase(env());
  });
  afterAll(async () => {
    await held.close();
    await database.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it("adds an admin, prints the temporary password once, and refuses the same email or a merchant role", async () => {
    const added = await run("staff", "add", "--email", "Ops@MPay.Example", "--name", "Ops Admin", "--role", "admin");
    expect(added.code).toBe(0);
    const password = /temporary password (\S+)/.exec(added.stdout)?.[1] ?? "";
    expect(password).toHaveLength(20);
    expect(added.stdout).toMatch(/^staff stf_\S+ \(admin\): ops@mpay\.example/);

    const exported = await run("audit", "export");
    expect(exported.stdout).toContain("staff.created");
    expect(exported.stdout).not.toContain(password);

    const again = await run("staff", "add", "--email", "ops@mpay.example", "--name", "Again", "--role", "support");
    expect([again.code, again.stderr]).toEqual([1, expect.stringContaining("staff_exists")]);
    const owner = await run("staff", "add", "--email", "x@mpay.example", "--name", "X", "--role", "owner");
    expect([owner.code, owner.stderr]).toEqual([1, expect.stringContaining("parameter_invalid")]);
  });
});
