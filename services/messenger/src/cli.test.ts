import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshDatabase, testBackends, type FreshDatabase } from "./testing/databases.ts";
import { holdEmbeddedDatabase, messenger, spawnMessenger } from "./testing/messenger-cli.ts";

// The commands run in this process (testing/messenger-cli.ts), configured by environment variables only; the last
// describe runs the real `messenger` process.
describe.each(testBackends())("messenger CLI [%s]", (backend) => {
  let dir: string;
  let database: FreshDatabase;
  let held: { close(): Promise<void> };
  const env = () => ({
    MESSENGER_DATA_DIR: dir,
    ...(database.url ? { MESSENGER_DATABASE_URL: database.url } : {}),
  });
  const run = (args: string[], input?: string) => messenger(args, env(), input);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "messenger-cli-"));
    database = await freshDatabase(backend);
    held = await holdEmbeddedDatabase(env());
  });
  afterAll(async () => {
    await held.close();
    await database.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it("creates an account as JSON, and refuses a taken number with its code", async () => {
    const created = await run([
      "account",
      "create",
      "--phone",
      "+82 10 5555 0001",
      "--name",
      "Script User",
      "--password",
      "scripted password",
      "--json",
    ]);
    expect(created.code).toBe(0);
    const account = JSON.parse(created.stdout) as Record<string, string>;
    expect(account).toMatchObject({ phoneNumber: "+821055550001", displayName: "Script User" });
    expect(account["id"]).toMatch(/^acct_[0-9A-Z]{26}$/);
    expect(created.stdout + created.stderr).not.toContain("scripted password");

    const taken = await run([
      "account",
      "create",
      "--phone",
      "+821055550001",
      "--name",
      "Again",
      "--password",
      "another password",
      "--json",
    ]);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain("phone_number_taken");
  });

  it("reads the password from stdin, and explains bad input with a non-zero exit", async () => {
    const piped = await run(
      ["account", "create", "--phone", "+821055550002", "--name", "Piped", "--password-stdin", "--json"],
      "piped password\n",
    );
    expect(piped.code).toBe(0);
    expect(JSON.parse(piped.stdout)).toMatchObject({ phoneNumber: "+821055550002" });

    const missing = await run(["account", "create", "--phone", "+821055550003", "--json"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("--name");
    const badPhone = await run([
      "account",
      "create",
      "--phone",
      "010-1234-5678",
      "--name",
      "X",
      "--password",
      "long enough pw",
    ]);
    expect(badPhone.code).toBe(1);
    expect(badPhone.stderr).toContain("phone_number_invalid");
    expect((await run(["nonsense"])).code).toBe(2);
    expect(await run(["migrate", "--json"])).toMatchObject({ code: 0, stdout: '{"ok":true}\n' });
  });
});

// The real entry point (bin/messenger.mjs → tsx → cli.ts) on a PGlite folder of its own that nothing holds, as a demo
// script on a fresh checkout: the process opens and migrates the folder itself, reads the password from its stdin,
// answers on stdout and exits 0; its logs are caught here too, so no line of them may hold the password. Few spawns:
// each costs a process start (tsx, the module graph, PGlite) of several seconds, and the in-process cases above
// cover the commands on both backends.
describe("messenger CLI as a process of its own", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "messenger-cli-process-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("creates an account on a fresh folder from a password on stdin, and exits 1 on bad input", {
    timeout: 240_000,
  }, () => {
    const created = spawnMessenger(
      ["account", "create", "--phone", "+821055550004", "--name", "Process", "--password-stdin", "--json"],
      { MESSENGER_DATA_DIR: dir },
      "process password\n",
    );
    expect(created.code, created.stderr).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({
      id: expect.stringMatching(/^acct_[0-9A-Z]{26}$/),
      phoneNumber: "+821055550004",
      displayName: "Process",
    });
    expect(created.stdout + created.stderr).not.toContain("process password");

    const missing = spawnMessenger(["account", "create", "--phone", "+821055550005", "--json"], {
      MESSENGER_DATA_DIR: dir,
    });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("--name");
  });
});
