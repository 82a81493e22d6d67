/**
 * The restore drill, short (issue 12, "Backups"): its core in this process (the servers in-process, see
 * restore-launch.ts), with the shamir key provider. On PostgreSQL when DATABASE_URL is set (pg_dump -Fc of the
 * live database, pg_restore into a new one), else on the embedded PGlite (a copy of the stopped data folder).
 * The restored copy must balance (`mpay ledger verify`), hold every head the witness kept (`mpay audit verify
 * --witness`), keep every acknowledged payment, open nothing while sealed, and take the phone's next payment once
 * the custodians unsealed it.
 */
import { describe, expect, it } from "vitest";
import { systemBackends } from "../services/pay/src/testing/databases.ts";
import { parseRestoreOptions, restoreReport, runRestoreDrill } from "./restore.ts";

describe.each(systemBackends())("the restore drill [%s]", (backend) => {
  it("restores a backup that balances, matches the witness, stays sealed until unsealed, and takes payments", async () => {
    const options = {
      ...parseRestoreOptions(
        ["--keys", "shamir", "--rounds", "2", "--rounds-after", "2", ...(backend === "postgres" ? [] : ["--embedded"])],
        process.env,
      ),
      inProcess: true,
    };
    expect(options.databaseUrl === undefined).toBe(backend === "pglite");
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
});
