/** The messenger CLI as scripts run it: a child process, configured by environment variables only. */
import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshDatabase, testBackends, type FreshDatabase } from "./testing/databases.ts";

const BIN = fileURLToPath(new URL("../bin/messenger.mjs", import.meta.url));

describe.each(testBackends())("messenger CLI [%s]", (backend) => {
  let dir: string;
  let database: FreshDatabase;
  const messenger = (args: string[], input?: string) => {
    const result = spawnSync(process.execPath, [BIN, ...args], {
      env: {
        PATH: process.env["PATH"] ?? "",
        MESSENGER_DATA_DIR: dir,
        ...(database.url ? { MESSENGER_DATABASE_URL: database.url } : {}),
      },
      encoding: "utf8",
      timeout: 60_000,
      ...(input !== undefined ? { input } : {}),
    });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "messenger-cli-"));
    database = await freshDatabase(backend);
  });
  afterAll(async () => {
    await database.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it("creates an account as JSON, and refuses a taken number with its code", () => {
    const created = messenger([
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

    const taken = messenger([
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

  it("reads the password from stdin, and explains bad input with a non-zero exit", () => {
    const piped = messenger(
      ["account", "create", "--phone", "+821055550002", "--name", "Piped", "--password-stdin", "--json"],
      "piped password\n",
    );
    expect(piped.code).toBe(0);
    expect(JSON.parse(piped.stdout)).toMatchObject({ phoneNumber: "+821055550002" });

    const missing = messenger(["account", "create", "--phone", "+821055550003", "--json"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("--name");
    const badPhone = messenger([
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
    expect(messenger(["nonsense"]).code).toBe(2);
    expect(messenger(["migrate", "--json"])).toMatchObject({ code: 0, stdout: '{"ok":true}\n' });
  });
});
