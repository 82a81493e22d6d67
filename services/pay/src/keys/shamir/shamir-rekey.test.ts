import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setImmediate } from "node:timers";
import { sql } from "drizzle-orm";
import { combine } from "shamir-secret-sharing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrateDatabase, openDatabase, queryRows } from "../../db/client.ts";
import { freshDatabase, testBackends, type FreshDatabase } from "../../testing/databases.ts";
import { call } from "../../testing/system.ts";
import { KeyProviderError } from "../provider.ts";
import { providerSecret, providerSecretAad } from "../provider-secrets.ts";
import type { KeyPurpose } from "../provider.ts";
import { webhookSecretAad } from "../../merchants/service.ts";
import { webhookEndpointSecretAad } from "../../webhooks/endpoint-secrets.ts";
import { v1aKeyAad } from "../../webhooks/service.ts";
import { rekeyAndReseal, type NewShareSet } from "./rekey.ts";
import { resealBelow } from "../reseal.ts";
import { RESEALERS } from "../../sealed-columns.ts";
import { openShamirKeyProvider, type ShamirKeyProvider } from "./shamir-provider.ts";
import { openKeyring } from "./shamir-store.ts";
import { SoftwareKeyring } from "../software-keyring.ts";
import { dumpTables, leaks, openPayProcess, type KeysTestProcess } from "../../testing/pay-process.ts";

const SETTLE_MS = 1500;

function shareBytes(share: string): Uint8Array {
  return new Uint8Array(Buffer.from(share.slice("mpvs2_".length), "base64url").subarray(8, 41));
}

/** Ends the rekey once the other unsealed processes took their delivery (they do at their next refresh). */
async function endWhenFollowed(keys: ShamirKeyProvider): Promise<unknown> {
  for (let i = 0; ; i++) {
    const ended = await keys.endRekey();
    if (ended?.ended !== false || i === 50) return ended;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function refusal(promise: Promise<unknown>): Promise<KeyProviderError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(KeyProviderError);
  return error as KeyProviderError;
}

/** The sealed rows whose purpose and AAD the test knows: provider secrets, webhook secrets, v1a keys. */
async function sealedRows(p: KeysTestProcess): Promise<Array<{ purpose: KeyPurpose; aad: string; sealed: string }>> {
  const db = p.system.database.db;
  const rows: Array<{ purpose: KeyPurpose; aad: string; sealed: string }> = [];
  for (const r of await queryRows<{ name: string; sealed: string }>(db, sql`select name, sealed from provider_secrets`))
    rows.push({ purpose: "provider-secret", aad: providerSecretAad(r.name), sealed: r.sealed });
  for (const r of await queryRows<{ merchant_id: string; mode: "test" | "live"; s: string }>(
    db,
    sql`select merchant_id, mode, sealed_secret as s from webhook_secrets`,
  )) {
    rows.push({ purpose: "webhook-secret", aad: webhookSecretAad(r.merchant_id, r.mode), sealed: r.s });
  }
  for (const r of await queryRows<{ id: string; s: string }>(
    db,
    sql`select id, v1a_sealed_private_key as s from webhook_endpoints where v1a_sealed_private_key is not null`,
  )) {
    rows.push({ purpose: "webhook-signing-key", aad: v1aKeyAad(r.id), sealed: r.s });
  }
  for (const r of await queryRows<{ id: string; s: string }>(
    db,
    sql`select id, sealed_secret as s from webhook_endpoints where sealed_secret is not null`,
  )) {
    rows.push({ purpose: "webhook-secret", aad: webhookEndpointSecretAad(r.id), sealed: r.s });
  }
  return rows;
}

describe.each(testBackends())("shamir rekey: new shares, old shares refused, no downtime [%s]", (backend) => {
  let database: FreshDatabase;
  let dir: string;
  let oldShares: string[] = [];
  let newShares: string[] = [];
  let merchantKey = "";
  let merchantId = "";
  let webhookSecret = "";
  /** The keys the old master key protected, as the departed custodians could have copied them before the rekey. */
  let oldKeys = new Map<number, Buffer>();
  const processes: KeysTestProcess[] = [];

  /** The operator's process (the CLI's role); on PGlite, the only process on the folder, serving as well. */
  let operator: KeysTestProcess;
  /** On PostgreSQL a second pay-server process on the same database, serving throughout; on PGlite the same one. */
  let server: KeysTestProcess;

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
  const unsealWith = async (keys: ShamirKeyProvider, shares: string[]) => {
    for (const share of shares) await keys.unsealer.submitShare(share);
  };
  const newEndpoint = (p: KeysTestProcess) =>
    call(
      p.app,
      "POST",
      "/v1/webhook-endpoints",
      merchantKey,
      { url: "http://127.0.0.1:9/hook", signatures: ["v1", "v1a"] },
      { "idempotency-key": randomBytes(8).toString("hex") },
    );

  beforeAll(async () => {
    database = await freshDatabase(backend);
    dir = await mkdtemp(join(tmpdir(), "mpay-rekey-"));
    operator = await start();
    const keys = operator.system.keys as ShamirKeyProvider;
    oldShares = (await keys.initialize(3, 2)).peek();
    const created = await operator.system.merchants.create({
      name: "Rekey Shop",
      allowedOrigins: ["https://shop.example"],
    });
    merchantKey = created.secretKey.peek();
    merchantId = created.merchant.id;
    webhookSecret = created.webhookSecret.peek();
    await providerSecret(
      operator.system.database.db,
      keys,
      "opaque-server-setup",
      () => "opaque-setup-before-the-rekey",
    );
    expect(await keys.rotate()).toBe(2); // two versions before the rekey: both must end up re-sealed and deleted
    for (let i = 0; i < 3; i++) expect((await newEndpoint(operator)).status).toBe(200);
    if (backend === "postgres") {
      server = await start();
      await unsealWith(server.system.keys as ShamirKeyProvider, oldShares.slice(1, 3));
      expect(server.system.keys.isSealed()).toBe(false);
    } else {
      server = operator;
    }
    const master = Buffer.from(await combine(oldShares.slice(0, 2).map(shareBytes)));
    oldKeys = await openKeyring(operator.system.database.db, master, 1);
    expect([...oldKeys.keys()]).toEqual([1, 2]);
  });
  afterAll(async () => {
    for (const p of processes.splice(0)) await p.close();
    await database.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it("re-keys 3-of-4 while the server keeps serving; every row is re-sealed under the new version and the old keys are deleted", async () => {
    let running = true;
    const errors: unknown[] = [];
    const counts = { endpoints: 0, merchants: 0, seals: 0 };
    const loop = async (step: () => Promise<void>) => {
      while (running) {
        await step().catch((e: unknown) => void errors.push(e));
        await new Promise((resolve) => setImmediate(resolve)); // let timers and I/O in between
      }
    };
    const loops = [
      loop(async () => {
        const answer = await newEndpoint(server);
        if (answer.status !== 200) throw new Error(`endpoint: ${answer.status} ${answer.raw}`);
        counts.endpoints++;
      }),
      loop(async () => {
        await server.system.merchants.create({ name: `Shop ${counts.merchants}` });
        counts.merchants++;
      }),
      loop(async () => {
        const plain = randomBytes(24);
        const sealed = await server.system.keys.seal("provider-secret", plain, "load");
        if (!Buffer.from(await server.system.keys.open("provider-secret", sealed, "load")).equals(plain))
          throw new Error("round trip failed");
        counts.seals++;
      }),
    ];

    const printed: NewShareSet[] = [];
    const keys = operator.system.keys as ShamirKeyProvider;
    const auditKeyBefore = await keys.auditPublicKey();
    const report = await rekeyAndReseal(
      { db: operator.system.database.db, keys },
      RESEALERS,
      { shares: 4, threshold: 3 },
      { settleMs: SETTLE_MS, batchSize: 2, onShares: (set) => void printed.push(set) },
    );
    running = false;
    await Promise.all(loops);

    expect(errors).toEqual([]);
    expect(counts.endpoints).toBeGreaterThan(0);
    expect(counts.merchants).toBeGreaterThan(0);
    expect(counts.seals).toBeGreaterThan(0);
    expect(printed).toHaveLength(1);
    newShares = printed[0]!.shares;
    expect(newShares).toHaveLength(4);
    expect(printed[0]).toMatchObject({
      generation: 2,
      threshold: 3,
      shareCount: 4,
      keyVersion: 3,
      delivered: backend === "postgres" ? 1 : 0,
    });
    expect(report).toMatchObject({
      fromVersion: 2,
      toVersion: 3,
      generation: 2,
      leftTotal: 0,
      retired: true,
      processesBehind: 0,
    });
    expect(report.deletedKeys).toBe(2); // versions 1 and 2 under the new master key (the old master's rows went at once)
    for (const resealer of RESEALERS) expect(await resealer.countBelow(operator.system.database.db, 3)).toBe(0);

    // The serving process followed without stopping: same process, now on share set 2, sealing with version 3.
    expect(server.system.keys.isSealed()).toBe(false);
    expect(server.system.keys.currentKeyVersion()).toBe(3);
    expect(await server.system.keys.status()).toMatchObject({
      sealed: false,
      currentKeyVersion: 3,
      custody: { generation: 2, threshold: 3, shares: 4, rekeyPending: false },
    });
    expect((await server.system.keys.seal("provider-secret", Buffer.from("after"), "row")).startsWith("mk1.3.")).toBe(
      true,
    );
    const keyring = await queryRows<{ generation: number; version: number }>(
      operator.system.database.db,
      sql`select generation, version from vault_keyring order by 1, 2`,
    );
    expect(keyring).toEqual([{ generation: 2, version: 3 }]);
    expect(
      await queryRows(
        operator.system.database.db,
        sql`select id from vault_processes where delivered_master is not null`,
      ),
    ).toEqual([]);
    expect(await operator.system.audit.verify()).toMatchObject({ ok: true });
    // The audit log keeps its one key across the rekey (a witness would refuse another): here and in a new process.
    expect(await keys.auditPublicKey()).toEqual(auditKeyBefore);
    expect(await server.system.keys.auditPublicKey()).toEqual(auditKeyBefore);
    if (backend === "postgres") expect(server.logLines.join("\n")).toMatch(/moved to share set 2 without stopping/);
  });

  it("M old shares, even together, open nothing stored: not the keyring, not any sealed row, not with any key they ever protected", async () => {
    const db = operator.system.database.db;
    const oldMaster = Buffer.from(await combine(oldShares.map(shareBytes).slice(0, 2)));
    expect(await openKeyring(db, oldMaster, 1)).toEqual(new Map());
    expect((await refusal(openKeyring(db, oldMaster, 2))).message).toMatch(/does not open/);
    const rows = await sealedRows(operator);
    expect(rows.length).toBeGreaterThan(10);
    const newMaster = Buffer.from(await combine(newShares.slice(1, 4).map(shareBytes)));
    const current = new SoftwareKeyring(await openKeyring(db, newMaster, 2));
    expect(current.versions()).toEqual([3]);
    const old = new SoftwareKeyring(new Map([...oldKeys].map(([v, k]) => [v, Buffer.from(k)])));
    for (const row of rows) {
      expect(row.sealed.startsWith("mk1.3."), row.sealed.slice(0, 8)).toBe(true);
      current.open(row.purpose, row.sealed, row.aad); // the control: this purpose and AAD are right
      // A blob names its version: relabelled to each old version, the old keys still do not open it.
      for (const version of [1, 2])
        expect(() => old.open(row.purpose, row.sealed.replace(/^mk1\.3\./, `mk1.${version}.`), row.aad)).toThrow(
          KeyProviderError,
        );
    }
    old.wipe();
    current.wipe();
    // No share, old or new, nor either master key, is in any table or log line.
    const texts = [...(await dumpTables(db)), ...processes.flatMap((p) => p.logLines)];
    for (const text of texts) {
      for (const share of [...oldShares, ...newShares]) expect(leaks(text, shareBytes(share))).toBe(false);
      expect(leaks(text, oldMaster)).toBe(false);
      expect(leaks(text, newMaster)).toBe(false);
    }
  });

  it("a new process refuses a departed custodian's share alone and beside current ones, and unseals with the new shares", async () => {
    if (backend === "pglite") await operator.close(); // one process per PGlite folder
    if (backend === "pglite") processes.splice(processes.indexOf(operator), 1);
    const fresh = await start();
    const unseal = (share: string) => call(fresh.app, "POST", "/v1/vault/unseal", null, { share });
    const departed = oldShares[0]!;

    const alone = await unseal(departed);
    expect(alone.status).toBe(400);
    expect(alone.body).toMatchObject({ error: { type: "invalid_request_error", code: "vault_share_retired" } });
    expect(alone.raw).not.toContain(departed.slice(6, 30));
    expect((await unseal(newShares[0]!)).body).toEqual({ sealed: true, sharesReceived: 1, threshold: 3 });
    expect((await unseal(newShares[1]!)).body).toEqual({ sealed: true, sharesReceived: 2, threshold: 3 });
    // The old share as the third: refused on its own, the two current ones kept, still sealed.
    expect((await unseal(departed)).body).toMatchObject({ error: { code: "vault_share_retired" } });
    expect((await unseal(oldShares[1]!)).body).toMatchObject({ error: { code: "vault_share_retired" } });
    expect(fresh.system.keys.isSealed()).toBe(true);
    expect((await call(fresh.app, "GET", "/v1/vault/status", null)).body).toMatchObject({
      sealed: true,
      custody: { sharesReceived: 2, generation: 2 },
    });
    expect((await newEndpoint(fresh)).status).toBe(503);

    expect((await unseal(newShares[3]!)).body).toEqual({ sealed: false, sharesReceived: 3, threshold: 3 });
    expect((await fresh.system.merchants.webhookSecret(merchantId, "test")).peek()).toBe(webhookSecret);
    const setup = await providerSecret(
      fresh.system.database.db,
      fresh.system.keys,
      "opaque-server-setup",
      () => "never made again",
    );
    expect(setup.peek()).toBe("opaque-setup-before-the-rekey");
    expect((await newEndpoint(fresh)).status).toBe(200);
    expect(await fresh.system.audit.verify()).toMatchObject({ ok: true });
    expect(fresh.logLines.join("\n")).toMatch(/vault share refused/);
  });

  it("refuses to rotate or re-key again while a rekey is unfinished, and `reseal` finishes it", async () => {
    const p = processes.at(-1)!;
    const keys = p.system.keys as ShamirKeyProvider;
    const made = await keys.rekey(3, 2);
    expect(made).toMatchObject({ generation: 3, version: 4 });
    expect((await refusal(keys.rotate())).code).toBe("vault_rekey_in_progress");
    expect((await refusal(keys.rekey(3, 2))).code).toBe("vault_rekey_in_progress");
    expect((await keys.status()).custody).toMatchObject({ generation: 3, rekeyPending: true });
    // A process unsealed by the new shares during the re-seal opens rows not yet re-sealed (version 3).
    const helper = await openShamirKeyProvider(p.system.database.db);
    try {
      await unsealWith(helper, made.shares.peek().slice(0, 2));
      expect((await helper.status()).keyVersions).toEqual([3, 4]);
      const [row] = await queryRows<{ sealed: string }>(
        p.system.database.db,
        sql`select sealed from provider_secrets where name = 'opaque-server-setup'`,
      );
      expect(row!.sealed.startsWith("mk1.3.")).toBe(true);
      expect(
        Buffer.from(
          await helper.open("provider-secret", row!.sealed, providerSecretAad("opaque-server-setup")),
        ).toString(),
      ).toBe("opaque-setup-before-the-rekey");
    } finally {
      await helper.close();
    }
    await resealBelow({ db: p.system.database.db, keys }, RESEALERS, 4, { settleMs: 10 });
    expect(await endWhenFollowed(keys)).toMatchObject({ ended: true, keyVersion: 4, deletedKeys: 1 });
    expect(await keys.endRekey()).toBeNull();
    expect(await keys.rotate()).toBe(5);
  });

  it("a process that was not seen when the rekey ran gets no new master key: it seals itself instead of serving stale", async () => {
    const p = processes.at(-1)!;
    const shares = (await (p.system.keys as ShamirKeyProvider).rekey(3, 2)).shares.peek();
    const logs: string[] = [];
    // Unsealed with the current (generation 4) shares before the next rekey, then unseen for a minute.
    const stale = await openShamirKeyProvider(p.system.database.db, (m) => logs.push(m));
    try {
      await resealBelow({ db: p.system.database.db, keys: p.system.keys }, RESEALERS, 6, { settleMs: 10 });
      expect(await endWhenFollowed(p.system.keys as ShamirKeyProvider)).toMatchObject({ ended: true });
      await unsealWith(stale, shares.slice(0, 2));
      expect(stale.isSealed()).toBe(false);
      await p.system.database.db.execute(sql`update vault_processes set seen_at = now() - interval '1 minute'`);
      await (p.system.keys as ShamirKeyProvider).rekey(2, 2);
      await expect.poll(() => stale.isSealed(), { timeout: 5000, interval: 100 }).toBe(true);
      expect(logs.join("\n")).toMatch(/no new master key was delivered to this process: it seals itself/);
      expect((await refusal(stale.seal("provider-secret", Buffer.from("x"), "row"))).code).toBe("vault_sealed");
    } finally {
      await stale.close();
    }
  });
});

/** A share as a vault made before share sets wrote it (`mpvs1_`: no set id, the v1 checksum). */
function legacyShare(share: string): string {
  const bytes = Buffer.from(shareBytes(share));
  const sum = createHash("sha256").update("mpay-vault-share/v1|").update(bytes).digest().subarray(0, 4);
  return `mpvs1_${Buffer.concat([bytes, sum]).toString("base64url")}`;
}

describe.each(testBackends())("a shamir vault made before share sets existed [%s]", (backend) => {
  it("unseals with its mpvs1 shares as before, and its first rekey retires them", async () => {
    const fresh = await freshDatabase(backend);
    const database = await openDatabase({ url: fresh.url });
    const opened: ShamirKeyProvider[] = [];
    const open = async () => {
      const keys = await openShamirKeyProvider(database.db);
      opened.push(keys);
      return keys;
    };
    try {
      await migrateDatabase(database);
      const first = await open();
      const shares = (await first.initialize(3, 2)).peek().map(legacyShare);
      // What migration 0015 leaves of a vault made before it: no share set id.
      await database.db.execute(sql`update vault_custody set share_set = null`);
      const sealed = await first.seal("provider-secret", Buffer.from("kept"), "row");
      await first.close();

      const legacy = await open();
      for (const share of shares.slice(0, 2)) await legacy.unsealer.submitShare(share);
      expect(legacy.isSealed()).toBe(false);
      expect(Buffer.from(await legacy.open("provider-secret", sealed, "row")).toString()).toBe("kept");
      const next = (await legacy.rekey(3, 2)).shares.peek();
      expect(next.every((share) => share.startsWith("mpvs2_"))).toBe(true);

      const later = await open();
      expect((await refusal(later.unsealer.submitShare(shares[2]!))).code).toBe("vault_share_retired");
      for (const share of next.slice(1)) await later.unsealer.submitShare(share);
      expect(Buffer.from(await later.open("provider-secret", sealed, "row")).toString()).toBe("kept");
    } finally {
      for (const keys of opened) await keys.close();
      await database.close();
      await fresh.drop();
    }
  });
});
