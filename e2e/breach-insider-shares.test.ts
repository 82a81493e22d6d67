/**
 * Breach drill (f) of issue 7: insiders holding custodian shares of the `shamir` vault (3 of 5).
 * - An insider with M−1 shares cannot unseal, and learns nothing: the server stays sealed (every operation that
 *   needs a key answers 503 vault_sealed), a made-up M-th share is refused with the same answer whatever it is, and the M−1
 *   shares are as consistent with any other key as with the real one (support/share-forgery.ts forges the M-th
 *   share for any key), so only the vault's check value, which needs the whole key, tells them apart.
 * - After `mpay vault rekey`, a departed custodian's share is refused on its own (vault_share_retired), beside M−1
 *   current shares, and together with every other old share; relabelled to the new share set it only spoils the
 *   combination (vault_share_rejected). The old master key, rebuilt from M old shares, opens nothing stored.
 *
 * Real processes: the pay server (services/pay/src/main.ts) and the operator CLI (shares on stdin). PostgreSQL when
 * DATABASE_URL is set, the server running through the rekey; else PGlite, where the server is stopped for each
 * CLI step (one process per data folder).
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { combine } from "shamir-secret-sharing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { unwrapKeyringKey } from "../services/pay/src/keys/shamir/shamir-store.ts";
import { checkValueMatches } from "../services/pay/src/keys/shamir/shamir-shares.ts";
import { freshDatabase, testBackends, type FreshDatabase } from "../services/pay/src/testing/databases.ts";
import { jsonLines, runMpay } from "./support/mpay-cli.ts";
import { startPayProcess, type PayProcess } from "./support/pay-process.ts";
import { dumpRows } from "./support/row-dump.ts";
import { forgeMissingShare, shareParts, shareText } from "./support/share-forgery.ts";

interface Answer {
  status: number;
  body: Record<string, unknown>;
  text: string;
}

describe.each(testBackends().slice(-1))("breach drill (f): insiders with custodian shares [%s]", (backend) => {
  let dir: string;
  let database: FreshDatabase;
  let server: PayProcess | null = null;
  let shares: string[] = [];
  let newShares: string[] = [];
  let merchantKey = "";
  const outputs: string[] = [];
  const env = () => ({
    MPAY_KEK_PROVIDER: "shamir",
    MPAY_DATA_DIR: dir,
    ...(database.url ? { DATABASE_URL: database.url } : {}),
  });
  const mpay = (args: string[], stdin = "") => {
    const result = runMpay(args, env(), stdin);
    outputs.push(result.stdout, result.stderr);
    return result;
  };
  const request = async (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Answer> => {
    const response = await fetch(`${server!.url}${path}`, {
      method,
      headers: { ...(body ? { "content-type": "application/json" } : {}), ...headers },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await response.text();
    return { status: response.status, body: JSON.parse(text) as Record<string, unknown>, text };
  };
  const unseal = (share: string) => request("POST", "/v1/vault/unseal", { share });
  const status = async () => (await request("GET", "/v1/vault/status")).body;
  /** A merchant call that needs the vault (a v1a signing key is sealed for the endpoint). */
  const newEndpoint = () =>
    request(
      "POST",
      "/v1/webhook-endpoints",
      { url: "http://127.0.0.1:9/hook", signatures: ["v1", "v1a"] },
      { authorization: `Bearer ${merchantKey}`, "idempotency-key": randomBytes(8).toString("hex") },
    );
  const startServer = async () => {
    server = await startPayProcess(env());
  };
  const stopServer = async () => {
    if (!server) return;
    await server.stop();
    outputs.push(server.output());
    server = null;
  };
  /** What a thief of the database holds of the vault: the check value and the keyring rows. */
  const vaultRows = async () => {
    const rows = await dumpRows(database.url ? { url: database.url } : { pgliteDir: join(dir, "db") });
    const custody = rows.find((r) => r.table === "public.vault_custody")!.row;
    const keyring = rows
      .filter((r) => r.table === "public.vault_keyring")
      .map((r) => ({ version: Number(r.row["version"]), sealed: String(r.row["sealed_key"]) }));
    return { checkValue: String(custody["check_value"]), keyring };
  };
  /** True if `master` passes the check value or opens any keyring row. */
  const opensAnything = (master: Buffer, vault: Awaited<ReturnType<typeof vaultRows>>) =>
    checkValueMatches(master, vault.checkValue) ||
    vault.keyring.some((row) => unwrapKeyringKey(master, row.version, row.sealed) !== null);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "mpay-e2e-insider-"));
    database = await freshDatabase(backend);
    const init = mpay(["vault", "init", "--shares", "5", "--threshold", "3", "--json"]);
    expect(init.code, init.stderr).toBe(0);
    shares = JSON.parse(init.stdout) as string[];
    const merchant = mpay(
      ["merchant", "create", "--name", "Insider Mall", "--origin", "https://shop.example", "--json", "--unseal"],
      `${shares.slice(0, 3).join("\n")}\n`,
    );
    expect(merchant.code, merchant.stderr).toBe(0);
    merchantKey = (jsonLines(merchant.stdout)[0] as { secretKey: string }).secretKey;
    await startServer();
  });
  afterAll(async () => {
    await stopServer();
    await database?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("(f) an insider with M−1 shares cannot unseal: the server stays sealed, every made-up M-th share gets the same refusal", async () => {
    const insider = shares.slice(0, 2);
    for (const [i, share] of insider.entries())
      expect((await unseal(share)).body).toEqual({ sealed: true, sharesReceived: i + 1, threshold: 3 });
    expect((await request("GET", "/readyz")).status).toBe(503);
    const refused = await newEndpoint();
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({ error: { code: "vault_sealed" } });

    // Three M-th shares made up for three random keys: each well-formed, of the current set, each refused alike.
    const { set } = shareParts(insider[0]!);
    const refusals: unknown[] = [];
    for (let round = 0; round < 3; round++) {
      const forged = shareText(
        set,
        await forgeMissingShare(
          insider.map((s) => shareParts(s).bytes),
          randomBytes(32),
        ),
      );
      const answer = await unseal(forged);
      expect(answer.status).toBe(400);
      const { requestId: _id, ...error } = answer.body["error"] as Record<string, unknown>;
      refusals.push(error);
      expect(await status()).toMatchObject({ sealed: true, custody: { sharesReceived: 0 } }); // all discarded
      for (const share of insider) await unseal(share);
    }
    expect(refusals[0]).toMatchObject({ code: "vault_share_rejected", type: "invalid_request_error" });
    expect(refusals[1]).toEqual(refusals[0]);
    expect(refusals[2]).toEqual(refusals[0]);
    expect(await status()).toMatchObject({ sealed: true, custody: { sharesReceived: 2 } });
    expect((await newEndpoint()).status).toBe(503);
  });

  it("(f) M−1 shares fit every key equally: forged for random keys they open nothing; only the whole key passes the check", async () => {
    const insider = shares.slice(0, 2).map((s) => shareParts(s).bytes);
    if (backend === "pglite") await stopServer();
    const vault = await vaultRows();
    for (let i = 0; i < 32; i++) {
      const target = randomBytes(32);
      const forged = await forgeMissingShare(insider, target);
      const combined = Buffer.from(await combine([...insider, forged]));
      expect(combined.equals(target)).toBe(true); // the M−1 shares allowed exactly this key
      expect(opensAnything(combined, vault)).toBe(false);
    }
    // The control: the same forgery aimed at the real key (which only M custodians can know) does open the vault.
    const real = Buffer.from(await combine(shares.slice(2, 5).map((s) => shareParts(s).bytes)));
    expect(opensAnything(real, vault)).toBe(true);
    const forgedReal = Buffer.from(await combine([...insider, await forgeMissingShare(insider, real)]));
    expect(forgedReal.equals(real)).toBe(true);
  });

  it("(f) after a rekey, a departed custodian's share is refused alone, beside M−1 current shares and with every old share", async () => {
    if (backend === "pglite") await stopServer();
    const departed = shares[4]!;
    // The remaining custodians re-key (3 current shares on stdin); on PostgreSQL the running server follows.
    if (server) for (const share of shares.slice(2, 5)) await unseal(share);
    const rekeyed = mpay(["vault", "rekey", "--json"], `${shares.slice(0, 3).join("\n")}\n`);
    expect(rekeyed.code, rekeyed.stderr).toBe(0);
    const [set, report] = jsonLines(rekeyed.stdout);
    newShares = set!["shares"] as string[];
    expect(set).toMatchObject({ generation: 2, threshold: 3 });
    expect(report).toMatchObject({ retired: true, leftTotal: 0 });
    if (server) expect(await status()).toMatchObject({ sealed: false, custody: { generation: 2 } });
    await stopServer();
    await startServer();

    const alone = await unseal(departed);
    expect(alone.status).toBe(400);
    expect(alone.body).toMatchObject({ error: { code: "vault_share_retired" } });
    expect(alone.text).toMatch(/replaced/);
    expect(await status()).toMatchObject({ sealed: true, custody: { sharesReceived: 0, generation: 2 } });

    for (const share of newShares.slice(0, 2)) await unseal(share);
    expect((await unseal(departed)).body).toMatchObject({ error: { code: "vault_share_retired" } });
    // Every old custodian together: each old share refused on its own, the two current ones kept.
    for (const share of shares)
      expect((await unseal(share)).body).toMatchObject({ error: { code: "vault_share_retired" } });
    expect(await status()).toMatchObject({ sealed: true, custody: { sharesReceived: 2 } });
    expect((await request("GET", "/readyz")).status).toBe(503);
    expect((await newEndpoint()).body).toMatchObject({ error: { code: "vault_sealed" } });

    // Relabelled to the current set (a valid checksum is no secret), it is counted, and spoils the combination.
    const relabelled = shareText(shareParts(newShares[0]!).set, shareParts(departed).bytes);
    const spoiled = await unseal(relabelled);
    expect(spoiled.body).toMatchObject({ error: { code: "vault_share_rejected" } });
    expect(await status()).toMatchObject({ sealed: true, custody: { sharesReceived: 0 } });
  });

  it("(f) the old master key, rebuilt from M old shares, opens nothing stored; the new shares unseal and the server serves", async () => {
    if (backend === "pglite") await stopServer();
    const vault = await vaultRows();
    expect(vault.keyring).toHaveLength(1);
    const old = Buffer.from(await combine(shares.slice(2, 5).map((s) => shareParts(s).bytes)));
    expect(opensAnything(old, vault)).toBe(false);
    const current = Buffer.from(await combine(newShares.slice(2, 5).map((s) => shareParts(s).bytes)));
    expect(opensAnything(current, vault)).toBe(true);

    if (!server) await startServer();
    for (const share of newShares.slice(1, 4)) await unseal(share);
    expect(await status()).toMatchObject({ sealed: false });
    expect((await newEndpoint()).status).toBe(200);
    await stopServer();
    const all = outputs.join("\n");
    for (const share of [...shares, ...newShares]) {
      const { bytes } = shareParts(share);
      expect(
        all.split(share.slice(6, 40)).length - 1,
        "a share appears only where the CLI printed it once",
      ).toBeLessThanOrEqual(1);
      expect(all).not.toContain(Buffer.from(bytes).toString("hex"));
    }
  });
});
