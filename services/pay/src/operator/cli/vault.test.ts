import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPayProcess, type PayProcess } from "../../../../../e2e/support/pay-process.ts";
import { freshDatabase, testBackends, type FreshDatabase } from "../../testing/databases.ts";
import { mpay as mpayHere, spawnMpay } from "../../testing/mpay-cli.ts";

const SLOW = 240_000; // pay-server processes (tsx, migrations, PGlite), and one CLI process

// The operator's path end to end: the CLI against a real pay-server process, shares only on stdin. The commands
// run in this process (testing/mpay-cli.ts, a fresh system and key provider each, as a process would have); the
// first unseal runs as a real `mpay` process, its shares piped to stdin. This runs on one backend: PostgreSQL
// when there is one (the server and the CLI on one database, as in production), else PGlite. The storage behind
// the vault is tested on both in keys/shamir/shamir-vault.test.ts.
describe.each(testBackends().slice(-1))("mpay vault with the shamir provider [%s]", (backend) => {
  let dir: string;
  let database: FreshDatabase;
  let server: PayProcess | null = null;
  let shares: string[] = [];
  const env = () => ({
    MPAY_KEK_PROVIDER: "shamir",
    MPAY_DATA_DIR: dir,
    ...(database.url ? { DATABASE_URL: database.url } : {}),
  });
  const mpay = (args: string[], input = "") => mpayHere(args, env(), input);
  const status = async () => (await fetch(`${server!.url}/v1/vault/status`)).json() as Promise<Record<string, unknown>>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "mpay-vault-cli-"));
    database = await freshDatabase(backend);
  });
  afterAll(async () => {
    await server?.stop();
    await database.drop();
    await rm(dir, { recursive: true, force: true });
  });

  // On PGlite the first command makes the database folder (initdb in WASM): slow on a busy machine.
  it("init prints the shares once, as a JSON array with --json, and refuses a second init", {
    timeout: SLOW,
  }, async () => {
    const init = await mpay(["vault", "init", "--shares", "5", "--threshold", "3", "--json"]);
    expect(init.code, init.stderr).toBe(0);
    shares = JSON.parse(init.stdout) as string[];
    expect(shares).toHaveLength(5);
    for (const share of shares) expect(share).toMatch(/^mpvs2_/);
    const again = await mpay(["vault", "init", "--shares", "5", "--threshold", "3"]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("vault_already_initialized");
    expect(again.stdout + again.stderr).not.toContain(shares[0]!.slice(6, 30));
  });

  it("a started server is sealed; custodians unseal it through the CLI, each with a share on stdin", {
    timeout: SLOW,
  }, async () => {
    server = await startPayProcess(env());
    expect(await status()).toMatchObject({
      kind: "shamir",
      sealed: true,
      custody: { threshold: 3, shares: 5, sharesReceived: 0 },
    });

    const two = await spawnMpay(["vault", "unseal", "--url", server.url], env(), `${shares[0]}\n\n${shares[3]}\n`);
    expect(two.code, two.stderr).toBe(0);
    expect(two.stdout).toContain("still sealed, 2 of 3 shares received");
    expect((await fetch(`${server.url}/readyz`)).status).toBe(503);

    const bad = await mpay(["vault", "unseal", "--url", server.url, "--json"], "mpvs1_not-a-share\n");
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("vault_share_invalid");

    const third = await mpay(["vault", "unseal", "--url", server.url, "--json"], `${shares[4]}\n`);
    expect(third.code, third.stderr).toBe(0);
    expect(JSON.parse(third.stdout)).toEqual([{ url: server.url, sealed: false, sharesReceived: 3, threshold: 3 }]);
    expect(await status()).toMatchObject({ sealed: false, currentKeyVersion: 1, keyVersions: [1] });
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
  });

  it("status and rotate: the CLI process unseals itself from stdin, re-seals, and the server follows", {
    timeout: SLOW,
  }, async () => {
    if (backend === "pglite") await server!.stop(); // one process at a time on a PGlite folder
    const local = await mpay(["vault", "status", "--json", ...(backend === "postgres" ? ["--url", server!.url] : [])]);
    expect(local.code, local.stderr).toBe(0);
    const shown = JSON.parse(local.stdout) as Record<string, unknown>;
    expect(shown).toMatchObject({
      kind: "shamir",
      initialized: true,
      sealed: true,
      currentKeyVersion: 1,
      keyVersions: [1],
    });
    if (backend === "postgres") expect(shown["servers"]).toMatchObject([{ url: server!.url, sealed: false }]);

    const refused = await mpay(["vault", "rotate"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("--unseal");

    const rotated = await mpay(["vault", "rotate", "--unseal", "--json"], `${shares[1]}\n${shares[2]}\n${shares[0]}\n`);
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(JSON.parse(rotated.stdout)).toMatchObject({ fromVersion: 1, toVersion: 2, leftTotal: 0 });
    expect(JSON.parse(rotated.stdout).resealed["webhook_secrets.sealed_secret"]).toBeGreaterThanOrEqual(0);
    if (backend === "postgres")
      await expect.poll(async () => (await status())["currentKeyVersion"], { timeout: 5000 }).toBe(2);

    const audit = await mpay(["audit", "verify", "--json", "--unseal"], `${shares.slice(0, 3).join("\n")}\n`);
    expect(JSON.parse(audit.stdout)).toMatchObject({ ok: true });
    if (backend === "pglite") server = null;
  });

  it("rekey: M current shares on stdin authorise it; the new shares are printed once; the old ones are refused", {
    timeout: SLOW,
  }, async () => {
    const refused = await mpay(["vault", "rekey", "--json"], `${shares[0]}\n`);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("vault_sealed"); // one share is not M: nothing happened

    const rekeyed = await mpay(
      ["vault", "rekey", "--shares", "4", "--threshold", "2", "--json"],
      `${shares[3]}\n${shares[1]}\n${shares[4]}\n`,
    );
    expect(rekeyed.code, rekeyed.stderr).toBe(0);
    const [set, report] = rekeyed.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const fresh = set!["shares"] as string[];
    expect(set).toMatchObject({
      generation: 2,
      threshold: 2,
      keyVersion: 3,
      delivered: backend === "postgres" ? 1 : 0,
    });
    expect(fresh).toHaveLength(4);
    expect(report).toMatchObject({ fromVersion: 2, toVersion: 3, leftTotal: 0, retired: true, generation: 2 });
    for (const share of fresh) expect(rekeyed.stdout.split(share.slice(6, 40)).length).toBe(2); // printed once
    for (const share of shares) expect(rekeyed.stdout + rekeyed.stderr).not.toContain(share.slice(6, 40));

    // The running server followed without a restart; a restarted one takes only the new shares.
    if (server) {
      expect(await status()).toMatchObject({
        sealed: false,
        currentKeyVersion: 3,
        custody: { generation: 2, threshold: 2, shares: 4, rekeyPending: false },
      });
      await server.stop();
      for (const share of [...shares, ...fresh]) expect(server.output()).not.toContain(share.slice(6, 30));
    }
    server = await startPayProcess(env());
    const old = await mpay(["vault", "unseal", "--url", server.url], `${shares[0]}\n`);
    expect(old.code).toBe(1);
    expect(old.stderr).toContain("vault_share_retired");
    expect(await status()).toMatchObject({ sealed: true, custody: { sharesReceived: 0, generation: 2 } });
    const unsealed = await mpay(["vault", "unseal", "--url", server.url, "--json"], `${fresh[2]}\n${fresh[0]}\n`);
    expect(unsealed.code, unsealed.stderr).toBe(0);
    expect(await status()).toMatchObject({ sealed: false, currentKeyVersion: 3, keyVersions: [3] });
    await server.stop();
    for (const share of [...shares, ...fresh]) expect(server.output()).not.toContain(share.slice(6, 30));
  });
});
