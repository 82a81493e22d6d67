/**
 * The restore drill, short (issue 12, "Backups").
 *
 * On PostgreSQL (DATABASE_URL set): the drill's core in this process (the servers in-process, restore-launch.ts)
 * with the shamir key provider: pg_dump -Fc of the live database, pg_restore into a new one; the copy balances
 * (`mpay ledger verify`), holds every head the witness kept (`mpay audit verify --witness`), keeps every
 * acknowledged payment, opens nothing while sealed, and takes the phone's next payment once unsealed.
 *
 * On the embedded PGlite (no DATABASE_URL), where the whole system takes minutes on a busy machine
 * (`npm run drill -- restore --embedded` runs it): the embedded default's backup itself — a copy of the stopped
 * data folder — is sealed without the custodians' shares, opens the merchant's sealed webhook secret once they
 * unseal it, balances, and verifies with every audit entry and head of the original.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../services/pay/src/config.ts";
import { KeyProviderError } from "../services/pay/src/keys/provider.ts";
import { webhookSecretAad } from "../services/pay/src/merchants/service.ts";
import { openPaySystem, type PaySystem } from "../services/pay/src/system.ts";
import { queryRows } from "../services/pay/src/db/client.ts";
import { systemBackends } from "../services/pay/src/testing/databases.ts";
import { sql } from "drizzle-orm";
import { copyFolder } from "./restore-backup.ts";
import { keyCustody } from "./restore-keys.ts";
import { parseRestoreOptions, restoreReport, runRestoreDrill } from "./restore.ts";

describe.each(systemBackends())("the restore drill [%s]", (backend) => {
  if (backend === "postgres")
    it("restores a dump that balances, matches the witness, stays sealed until unsealed, and takes payments", async () => {
      const options = {
        ...parseRestoreOptions(["--keys", "shamir", "--rounds", "2", "--rounds-after", "2"], process.env),
        inProcess: true,
      };
      expect(options.databaseUrl).toBeDefined();
      const run = await runRestoreDrill(options, () => {});
      const report = restoreReport(run);
      expect(
        run.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`),
        report,
      ).toEqual([]);
      // The checks that make it a restore drill ran (a drill that skipped them would pass vacuously).
      expect(run.checks.map((c) => c.name)).toEqual(
        expect.arrayContaining([
          "mpay ledger verify on the restored copy",
          "mpay audit verify --witness on the restored copy",
          "the sealed copy answers the documented sealed error",
          "payments continue on the restored copy (phone, card, issuer, capture)",
        ]),
      );
      expect(run.sealed?.code, report).toBe("vault_sealed");
    }, 120_000);
  else
    it("a copy of the stopped PGlite folder verifies with every audit entry, and is sealed until unsealed", async () => {
      const dir = await mkdtemp(join(tmpdir(), "mpay-restore-embedded-"));
      const custody = await keyCustody("shamir", join(dir, "pay"));
      const open = (dataDir: string) =>
        openPaySystem(
          { ...loadConfig({ MPAY_KEK_PROVIDER: "shamir", MPAY_DATA_DIR: dataDir }), dbPoolSize: 1, workers: false },
          pino({ level: "silent" }),
        );
      let copy: PaySystem | null = null;
      try {
        const source = await open(join(dir, "pay"));
        let merchant: { id: string; webhookSecret: string };
        let original: Awaited<ReturnType<PaySystem["audit"]["verify"]>>;
        try {
          await custody.initialize(source);
          const created = await source.merchants.create({ name: "Embedded Backup Shop" });
          merchant = { id: created.merchant.id, webhookSecret: created.webhookSecret.peek() };
          original = await source.audit.verify([]);
        } finally {
          await source.close(); // PGlite: one process holds the folder; the backup is taken with it stopped
        }
        expect(original).toMatchObject({ ok: true });
        expect(original.entries).toBeGreaterThan(0);

        await copyFolder(join(dir, "pay", "db"), join(dir, "restored", "db"));
        // One open of the copy (each PGlite open of a folder takes seconds): the checks `mpay ledger verify` and
        // `mpay audit verify --unseal` run, on the copy's own system.
        copy = await open(join(dir, "restored"));
        expect(copy.keys.isSealed()).toBe(true);
        const [row] = await queryRows<{ sealed: string }>(
          copy.database.db,
          sql`select sealed_secret as sealed from webhook_secrets where merchant_id = ${merchant.id}`,
        );
        const opening = () => copy!.keys.open("webhook-secret", row!.sealed, webhookSecretAad(merchant.id, "test"));
        const refused = await opening().catch((error: unknown) => error);
        expect(refused).toBeInstanceOf(KeyProviderError);
        expect((refused as KeyProviderError).code).toBe("vault_sealed");
        expect(String((refused as Error).message)).not.toContain(merchant.webhookSecret);
        await custody.unsealSystem(copy);
        expect(Buffer.from(await opening()).toString("utf8")).toBe(merchant.webhookSecret);
        expect(await copy.ledger.verify(copy.database.db)).toMatchObject({ ok: true });
        expect(await copy.audit.verify([])).toEqual(original);
      } finally {
        await copy?.close();
        await rm(dir, { recursive: true, force: true });
      }
    }, 120_000);
});
