import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { combine } from "shamir-secret-sharing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshDatabase, testBackends, type FreshDatabase } from "../../testing/databases.ts";
import { call } from "../../testing/system.ts";
import { KeyProviderError } from "../provider.ts";
import type { ShamirKeyProvider } from "./shamir-provider.ts";
import { dumpTables, leaks, openPayProcess, type KeysTestProcess } from "../../testing/pay-process.ts";

/** A share with other bytes but a valid checksum: only the check value can catch it. */
function corrupted(share: string): string {
  const decoded = Buffer.from(share.slice("mpvs2_".length), "base64url");
  const set = decoded.subarray(0, 8);
  const bytes = Buffer.from(decoded.subarray(8, 41));
  bytes[5] = (bytes[5] ?? 0) ^ 0x5a;
  const checksum = createHash("sha256")
    .update("mpay-vault-share/v2|")
    .update(set)
    .update(bytes)
    .digest()
    .subarray(0, 4);
  return `mpvs2_${Buffer.concat([set, bytes, checksum]).toString("base64url")}`;
}

function shareBytes(share: string): Uint8Array {
  return new Uint8Array(Buffer.from(share.slice("mpvs2_".length), "base64url").subarray(8, 41));
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(KeyProviderError);
  expect((error as KeyProviderError).code).toBe(code);
}

describe.each(testBackends())("shamir vault [%s]", (backend) => {
  let database: FreshDatabase;
  let dir: string;
  let shares: string[] = [];
  let merchantKey = "";
  let merchantId = "";
  const processes: KeysTestProcess[] = [];
  const logs: string[] = [];

  const start = async () => {
    const p = await openPayProcess({
      keyProvider: "shamir",
      dataDir: dir,
      databaseUrl: database.url,
      embeddedDatabaseDir: backend === "pglite" ? join(dir, "db") : undefined,
    });
    processes.push(p);
    return p;
  };
  const stop = async (p: KeysTestProcess) => {
    logs.push(...p.logLines);
    processes.splice(processes.indexOf(p), 1);
    await p.close();
  };
  const unseal = (p: KeysTestProcess, share: string) => call(p.app, "POST", "/v1/vault/unseal", null, { share });
  const newEndpoint = (p: KeysTestProcess) =>
    call(
      p.app,
      "POST",
      "/v1/webhook-endpoints",
      merchantKey,
      { url: "http://127.0.0.1:9/hook", signatures: ["v1", "v1a"] },
      { "idempotency-key": `k-${Math.random()}` },
    );

  beforeAll(async () => {
    database = await freshDatabase(backend);
    dir = await mkdtemp(join(tmpdir(), "mpay-shamir-"));
  });
  afterAll(async () => {
    for (const p of processes.splice(0)) await p.close();
    await database.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it("starts sealed and uninitialized; init 3-of-5 gives five shares and unseals the initializing process", async () => {
    const a = await start();
    const keys = a.system.keys as ShamirKeyProvider;
    expect(keys.isSealed()).toBe(true);
    expect(await keys.status()).toMatchObject({ kind: "shamir", initialized: false, sealed: true, keyVersions: [] });
    await expectCode(keys.seal("webhook-secret", new Uint8Array(1), "x"), "vault_not_initialized");
    expect((await unseal(a, "mpvs1_x")).body).toMatchObject({ error: { code: "vault_not_initialized" } });

    shares = (await keys.initialize(5, 3)).peek();
    expect(shares).toHaveLength(5);
    for (const share of shares) expect(share).toMatch(/^mpvs2_[A-Za-z0-9_-]{60}$/);
    expect(new Set(shares).size).toBe(5);
    expect(keys.isSealed()).toBe(false);
    expect(await keys.status()).toMatchObject({
      initialized: true,
      sealed: false,
      currentKeyVersion: 1,
      keyVersions: [1],
      custody: { threshold: 3, shares: 5, generation: 1, rekeyPending: false },
    });
    await expectCode(keys.initialize(5, 3), "vault_already_initialized");
    await expectCode(keys.initialize(1, 1), "provider_misconfigured");

    const created = await a.system.merchants.create({ name: "Vault Shop", allowedOrigins: ["https://shop.example"] });
    merchantKey = created.secretKey.peek();
    merchantId = created.merchant.id;
    expect((await newEndpoint(a)).status).toBe(200);
    await stop(a);
  });

  it("every new process is sealed: key operations refuse with vault_sealed and the API answers 503 vault_sealed", async () => {
    const b = await start();
    expect(b.system.keys.isSealed()).toBe(true);
    expect(await b.system.keys.status()).toMatchObject({
      initialized: true,
      sealed: true,
      currentKeyVersion: 1,
      keyVersions: [1],
      custody: { threshold: 3, shares: 5, sharesReceived: 0 },
    });
    await expectCode(b.system.merchants.webhookSecret(merchantId, "test"), "vault_sealed");
    await expectCode(b.system.keys.mac("audit-head", new Uint8Array(1)), "vault_sealed");
    await expectCode(b.system.keys.seal("provider-secret", new Uint8Array(1), "x"), "vault_sealed");
    const refused = await newEndpoint(b);
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({ error: { type: "service_unavailable_error", code: "vault_sealed" } });
    const ready = await call(b.app, "GET", "/readyz", null);
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ checks: { keyProvider: "sealed" } });
    expect((await call(b.app, "GET", "/v1/vault/status", null)).body).toMatchObject({
      kind: "shamir",
      sealed: true,
      custody: { threshold: 3 },
    });
  });

  it("two shares keep it sealed; a mistyped share is refused alone; a corrupted one is caught by the check value", async () => {
    const b = processes[0]!;
    expect((await unseal(b, shares[0]!)).body).toEqual({ sealed: true, sharesReceived: 1, threshold: 3 });
    expect((await unseal(b, shares[1]!)).body).toEqual({ sealed: true, sharesReceived: 2, threshold: 3 });
    expect((await unseal(b, shares[1]!)).body).toEqual({ sealed: true, sharesReceived: 2, threshold: 3 }); // a retry counts once
    expect((await newEndpoint(b)).status).toBe(503);

    const typo = `${shares[2]!.slice(0, 20)}${shares[2]![20] === "A" ? "B" : "A"}${shares[2]!.slice(21)}`;
    const mistyped = await unseal(b, typo);

    expect(mistyped.status).toBe(400);
    expect(mistyped.body).toMatchObject({ error: { code: "vault_share_invalid" } });
    expect((await b.system.keys.status()).custody?.sharesReceived).toBe(2);

    const wrong = await unseal(b, corrupted(shares[2]!));
    expect(wrong.status).toBe(400);
    expect(wrong.body).toMatchObject({ error: { code: "vault_share_rejected" } });
    expect(wrong.raw).toMatch(/at least one of them is wrong/);
    for (const share of shares) expect(wrong.raw).not.toContain(share.slice(6, 30));
    expect(b.system.keys.isSealed()).toBe(true);
    expect((await b.system.keys.status()).custody?.sharesReceived).toBe(0); // all collected shares discarded
    expect((await newEndpoint(b)).status).toBe(503);
  });

  it("three right shares unseal it: old secrets open, new ones seal, the audit chain verifies", async () => {
    const b = processes[0]!;
    expect((await unseal(b, shares[4]!)).body).toEqual({ sealed: true, sharesReceived: 1, threshold: 3 });
    expect((await unseal(b, shares[2]!)).body).toEqual({ sealed: true, sharesReceived: 2, threshold: 3 });
    expect((await unseal(b, shares[0]!)).body).toEqual({ sealed: false, sharesReceived: 3, threshold: 3 });
    expect((await unseal(b, shares[3]!)).body).toEqual({ sealed: false, sharesReceived: 0, threshold: 3 });
    expect(b.system.keys.isSealed()).toBe(false);
    expect((await b.system.merchants.webhookSecret(merchantId, "test")).peek()).toMatch(/^whsec_/);
    expect((await newEndpoint(b)).status).toBe(200);
    expect((await call(b.app, "GET", "/readyz", null)).status).toBe(200);
    expect(await b.system.audit.verify()).toMatchObject({ ok: true });
  });

  it("no share and not the master key is in any table or log line", async () => {
    const b = processes[0]!;
    const master = await combine(shares.slice(0, 3).map(shareBytes));
    const rows = await dumpTables(b.system.database.db);
    expect(rows.some((r) => r.startsWith("vault_custody:"))).toBe(true);
    const texts = [...rows, ...logs, ...b.logLines];
    for (const text of texts) {
      for (const share of shares) {
        expect(text).not.toContain(share.slice(6, 40));
        expect(leaks(text, shareBytes(share))).toBe(false);
      }
      expect(leaks(text, master)).toBe(false);
    }
    expect(b.logLines.join("\n")).toMatch(/vault share refused/);
  });

  it("a rotation by one process reaches another unsealed process; old versions stay readable", async () => {
    const b = processes[0]!;
    const old = await b.system.keys.seal("provider-secret", Buffer.from("before"), "row");
    if (backend === "pglite") {
      // One process per PGlite folder: the second process is the same one here.
      expect(await b.system.keys.rotate()).toBe(2);
      expect((await b.system.keys.seal("provider-secret", Buffer.from("after"), "row")).startsWith("mk1.2.")).toBe(
        true,
      );
      expect(Buffer.from(await b.system.keys.open("provider-secret", old, "row")).toString()).toBe("before");
      return;
    }
    const c = await start();
    for (const share of shares.slice(2, 5)) await c.system.keys.unsealer!.submitShare(share);
    expect(c.system.keys.isSealed()).toBe(false);
    expect(await c.system.keys.rotate()).toBe(2);
    await expect.poll(() => b.system.keys.currentKeyVersion(), { timeout: 5000, interval: 100 }).toBe(2);
    const fresh = await b.system.keys.seal("provider-secret", Buffer.from("after"), "row");
    expect(fresh.startsWith("mk1.2.")).toBe(true);
    expect(Buffer.from(await c.system.keys.open("provider-secret", fresh, "row")).toString()).toBe("after");
    expect(Buffer.from(await c.system.keys.open("provider-secret", old, "row")).toString()).toBe("before");
    expect(await c.system.keys.status()).toMatchObject({ currentKeyVersion: 2, keyVersions: [1, 2] });
  });

  it("rate-limits the unseal route per address", async () => {
    const b = processes[0]!;
    let last = 0;
    for (let i = 0; i < 25 && last !== 429; i++) last = (await unseal(b, "mpvs1_junk")).status;
    expect(last).toBe(429);
  });
});
