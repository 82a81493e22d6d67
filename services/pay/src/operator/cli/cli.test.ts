import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshDatabase, testBackends, type FreshDatabase } from "../../testing/databases.ts";

const SLOW = 240_000; // each command is a process of its own (tsx, migrations, PGlite)

const MPAY = fileURLToPath(new URL("../../../../../scripts/mpay.mjs", import.meta.url));

describe.each(testBackends())("mpay CLI [%s]", (backend) => {
  let dir: string;
  let database: FreshDatabase;
  const mpay = (...args: string[]) => {
    const result = spawnSync(process.execPath, [MPAY, ...args], {
      env: {
        PATH: process.env["PATH"] ?? "",
        MPAY_DATA_DIR: dir,
        ...(database.url ? { DATABASE_URL: database.url } : {}),
      },
      encoding: "utf8",
      timeout: 60_000,
    });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "mpay-cli-"));
    database = await freshDatabase(backend);
  });
  afterAll(async () => {
    await database.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it("migrates, creates a merchant as JSON, and verifies ledger and audit", { timeout: SLOW }, () => {
    expect(mpay("migrate", "--json")).toMatchObject({ code: 0 });
    const created = mpay("merchant", "create", "--name", "Corner Shop", "--origin", "https://corner.example", "--json");
    expect(created.code).toBe(0);
    const merchant = JSON.parse(created.stdout) as Record<string, string>;
    expect(merchant["id"]).toMatch(/^mch_/);
    expect(merchant["secretKey"]).toMatch(/^sk_test_[0-9A-Za-z]{32}$/);
    expect(merchant["publishableKey"]).toMatch(/^pk_test_/);
    expect(merchant["webhookSecret"]).toMatch(/^whsec_/);
    const ledger = mpay("ledger", "verify", "--json");
    expect(ledger.code).toBe(0);
    expect(JSON.parse(ledger.stdout)).toMatchObject({ ok: true });
    const audit = mpay("audit", "verify", "--json");
    expect(audit.code).toBe(0);
    expect(JSON.parse(audit.stdout)).toMatchObject({ ok: true, entries: 2 });
    const rolled = mpay("merchant", "roll-key", "--merchant", merchant["id"]!, "--json");
    expect(JSON.parse(rolled.stdout).secretKey).toMatch(/^sk_test_/);
    expect(JSON.parse(mpay("audit", "verify", "--json").stdout)).toMatchObject({ ok: true, entries: 3 });
  });

  it("refuses bad input with a message and a non-zero exit", { timeout: SLOW }, () => {
    const missing = mpay("merchant", "create", "--json");
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("--name");
    const live = mpay("merchant", "create", "--name", "Live", "--live");
    expect(live.code).toBe(1);
    expect(live.stderr).toContain("live_mode_forbidden");
    expect(mpay("nonsense").code).toBe(2);
  });
});
