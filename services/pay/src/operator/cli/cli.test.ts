import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshDatabase, testBackends, type FreshDatabase } from "../../testing/databases.ts";
import { holdEmbeddedDatabase, mpay, spawnMpay } from "../../testing/mpay-cli.ts";

// The commands run in this process (testing/mpay-cli.ts); the last case runs the real `mpay` process.
describe.each(testBackends())("mpay CLI [%s]", (backend) => {
  let dir: string;
  let database: FreshDatabase;
  let held: { close(): Promise<void> };
  const env = () => ({ MPAY_DATA_DIR: dir, ...(database.url ? { DATABASE_URL: database.url } : {}) });
  const run = (...args: string[]) => mpay(args, env());

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "mpay-cli-"));
    database = await freshDatabase(backend);
    held = await holdEmbeddedDatabase(env());
  });
  afterAll(async () => {
    await held.close();
    await database.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it("migrates, creates a merchant as JSON, and verifies ledger and audit", async () => {
    expect(await run("migrate", "--json")).toMatchObject({ code: 0 });
    const created = await run(
      "merchant",
      "create",
      "--name",
      "Corner Shop",
      "--origin",
      "https://corner.example",
      "--webhook-url",
      "http://127.0.0.1:9/hooks",
      "--json",
    );
    expect(created.code).toBe(0);
    const merchant = JSON.parse(created.stdout) as Record<string, string>;
    expect(merchant["id"]).toMatch(/^mch_/);
    expect(merchant["secretKey"]).toMatch(/^sk_test_[0-9A-Za-z]{32}$/);
    expect(merchant["publishableKey"]).toMatch(/^pk_test_/);
    // The webhook secret signs the first endpoint --webhook-url made (test mode allows a loopback URL).
    expect(merchant["webhookSecret"]).toMatch(/^whsec_/);
    expect(merchant["webhookEndpoint"]).toEqual({ id: expect.stringMatching(/^we_/), url: "http://127.0.0.1:9/hooks" });
    const listed = await run("merchant", "list");
    expect(listed.stdout).toContain(`${merchant["id"]}  Corner Shop  https://corner.example`);
    expect(listed.stdout).not.toContain(merchant["secretKey"]);
    const ledger = await run("ledger", "verify", "--json");
    expect(ledger.code).toBe(0);
    expect(JSON.parse(ledger.stdout)).toMatchObject({ ok: true });
    const audit = await run("audit", "verify", "--json");
    expect(audit.code).toBe(0);
    // merchant.created, api_key.created and webhook_endpoint.created (the --webhook-url endpoint).
    expect(JSON.parse(audit.stdout)).toMatchObject({ ok: true, entries: 3 });
    const rolled = await run("merchant", "roll-key", "--merchant", merchant["id"]!, "--json");
    expect(JSON.parse(rolled.stdout).secretKey).toMatch(/^sk_test_/);
    expect(JSON.parse((await run("audit", "verify", "--json")).stdout)).toMatchObject({ ok: true, entries: 4 });
  });

  it("refuses bad input with a message and a non-zero exit", async () => {
    const missing = await run("merchant", "create", "--json");
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("--name");
    const live = await run("merchant", "create", "--name", "Live", "--live");
    expect(live.code).toBe(1);
    expect(live.stderr).toContain("live_mode_forbidden");
    // A webhook URL the endpoint guard refuses is refused before the merchant is made.
    const before = (await run("merchant", "list", "--json")).stdout;
    const privateUrl = await run("merchant", "create", "--name", "Nope", "--webhook-url", "http://10.0.0.5/hooks");
    expect(privateUrl.code).toBe(1);
    expect(privateUrl.stderr).toContain("webhook_url_private");
    expect((await run("merchant", "list", "--json")).stdout).toBe(before);
    const nonsense = await run("nonsense");
    expect(nonsense.code).toBe(2);
    expect(nonsense.stderr).toContain("unknown command: nonsense");
    expect(await run("--no-such-option")).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/^mpay: .*no-such-option/),
    });
    expect(await run()).toMatchObject({ code: 2, stdout: expect.stringContaining("usage: mpay") });
  });
});

// The real entry point (scripts/mpay.mjs → tsx → main.ts) on a PGlite folder of its own that nothing holds, as
// `npx mpay` on a fresh checkout: the process opens and migrates the folder itself, answers on stdout and exits 0.
// (A refused command's exit 1 from a process: audit-cli.test.ts.) One spawn: each costs a process start (tsx, the
// module graph, PGlite) of several seconds, and the in-process cases above cover the commands on both backends.
describe("mpay CLI as a process of its own", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "mpay-cli-process-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("creates a merchant on a fresh folder", { timeout: 240_000 }, async () => {
    const created = await spawnMpay(["merchant", "create", "--name", "Corner Shop", "--json"], { MPAY_DATA_DIR: dir });
    expect(created.code, created.stderr).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({
      id: expect.stringMatching(/^mch_/),
      mode: "test",
      secretKey: expect.stringMatching(/^sk_test_/),
    });
  });
});
