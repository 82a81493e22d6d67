/**
 * `npm run drill -- restore [--keys dev|shamir|pkcs11] [--embedded]`: a restore drill (issue 12, "Backups"). The
 * real system runs and takes payments (captured, refunded, voided, canceled; a webhook endpoint gets the events),
 * the pay database is backed up (`pg_dump -Fc` while the server serves; with --embedded, a copy of the stopped
 * PGlite folder), the site is lost (its pay server stops), and the backup is restored into a new database. Then,
 * on the restored copy: `mpay ledger verify` balances, `mpay audit verify --witness <the issuer host's heads>` finds
 * the log intact with every witnessed head in it, and a pay server on it takes the same phone's next payment end to
 * end. With `shamir` and `pkcs11` the restored server first opens nothing (the key material is not in a dump):
 * card release answers the documented sealed error with nothing secret in it, until the custodians act.
 */
import { join } from "node:path";
import { mkdir } from "node:fs/promises";
import { createScratchDatabase, randomSuffix, serverUrl } from "../bench/postgres.ts";
import { api, waitFor } from "../e2e/support/http.ts";
import { inProcessLauncher, processLauncher, type RunningPay } from "./restore-launch.ts";
import { mpay } from "../services/pay/src/testing/mpay-cli.ts";
import { parseOptions, UsageError, type Drill, type DrillResult } from "./scenario.ts";
import type { KeysKind } from "./restore-keys.ts";
import { startSourceSite, type SourceSite } from "./restore-system.ts";
import {
  copyFolder,
  databaseBytes,
  dumpCustom,
  megabytes,
  postgresTools,
  restoreCustom,
  sizeOf,
  timed,
} from "./restore-backup.ts";
import { checkSealedCopy, type SealedProbe } from "./restore-sealed.ts";

export interface RestoreOptions {
  keys: KeysKind;
  /** PostgreSQL server for the source and restored databases; undefined → the embedded PGlite. */
  databaseUrl: string | undefined;
  /** Load rounds before the backup (each one payment: capture, capture + refund, void or cancel in turn). */
  rounds: number;
  /** Load rounds on the restored copy. */
  roundsAfter: number;
  /** The servers as processes (the drill) or in the drill's process (the short run in npm test). */
  inProcess: boolean;
}

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface RestoreRun {
  options: RestoreOptions;
  figures: Array<[string, string]>;
  checks: Check[];
  sealed: SealedProbe | null;
}

const USAGE = [
  "  --keys dev|shamir|pkcs11   the key provider (default dev); shamir and pkcs11 start the restored copy sealed",
  "  --embedded                 the embedded PGlite (backup: a copy of the stopped data folder) instead of PostgreSQL",
  "  --database-url URL         PostgreSQL server for the throwaway databases (default DATABASE_URL, else",
  "                             postgres://postgres@127.0.0.1:5432/test)",
  "  --rounds N                 payments before the backup (default 40)",
  "  --rounds-after N           payments on the restored copy (default 4)",
].join("\n");

export function parseRestoreOptions(args: string[], env: NodeJS.ProcessEnv = process.env): RestoreOptions {
  const { values, positiveInteger } = parseOptions(args, {
    keys: { type: "string" },
    embedded: { type: "boolean" },
    "database-url": { type: "string" },
    rounds: { type: "string" },
    "rounds-after": { type: "string" },
  });
  const keys = values.keys ?? "dev";
  if (keys !== "dev" && keys !== "shamir" && keys !== "pkcs11")
    throw new UsageError(`--keys must be dev, shamir or pkcs11, got ${JSON.stringify(keys)}`);
  if (values.embedded && values["database-url"])
    throw new UsageError("--embedded and --database-url exclude each other");
  return {
    keys,
    databaseUrl: values.embedded ? undefined : (values["database-url"] ?? serverUrl(env)),
    rounds: positiveInteger("rounds", 40),
    roundsAfter: positiveInteger("rounds-after", 4),
    inProcess: false,
  };
}

interface WitnessedHeads {
  heads: Array<{ head: string }>;
}

async function witnessedHeads(site: SourceSite): Promise<string[]> {
  const answer = await api<WitnessedHeads>(site.witnessUrl, "GET", "", null);
  return answer.status === 200 ? answer.body.heads.map((h) => h.head) : [];
}

/** Until the witness holds a head and its newest one stayed the same for 0.6 s (6 sends: the log is quiet). */
async function witnessSettled(site: SourceSite): Promise<string[]> {
  let last = "";
  let since = Date.now();
  return waitFor(
    "the witness to hold the newest audit head",
    async () => {
      const heads = await witnessedHeads(site);
      const newest = heads.at(-1) ?? "";
      if (newest !== last) [last, since] = [newest, Date.now()];
      return newest && Date.now() - since >= 600 ? heads : undefined;
    },
    30_000,
    100,
  );
}

/** Every webhook event delivered (none pending at the endpoint). */
async function deliveriesSettled(site: SourceSite, url: string): Promise<void> {
  await waitFor(
    "every webhook event delivered",
    async () => {
      const answer = await api<{ data: unknown[] }>(
        url,
        "GET",
        `/v1/webhook-endpoints/${site.endpointId}/deliveries?status=pending`,
        site.merchant.secretKey,
      );
      return answer.status === 200 && answer.body.data.length === 0 ? true : undefined;
    },
    30_000,
    100,
  );
}

/** `mpay ledger verify` and `mpay audit verify --witness` against the restored copy, as the operator runs them. */
export async function verifyCopy(
  env: Record<string, string>,
  witnessUrl: string | null,
  unsealInput: string,
  heads: number,
  when: string,
): Promise<Check[]> {
  const unseal = unsealInput ? ["--unseal"] : [];
  const ledger = await mpay(["ledger", "verify", "--json", ...unseal], env, unsealInput);
  const witness = witnessUrl ? ["--witness", witnessUrl] : [];
  const audit = await mpay(["audit", "verify", ...witness, "--json", ...unseal], env, unsealInput);
  const ledgerReport = parseJson(ledger.stdout);
  const auditReport = parseJson(audit.stdout);
  return [
    {
      name: `mpay ledger verify ${when}`,
      ok: ledger.code === 0 && ledgerReport?.["ok"] === true,
      detail: ledgerReport
        ? `${ledgerReport["ok"] ? "balanced" : "BROKEN"}: ${ledgerReport["transactions"]} transactions, ${ledgerReport["entries"]} entries`
        : `exit ${ledger.code}: ${ledger.stderr.slice(0, 300)}`,
    },
    {
      name: `mpay audit verify${witnessUrl ? " --witness" : ""} ${when}`,
      ok: audit.code === 0 && auditReport?.["ok"] === true && Number(auditReport["witnessedHeads"]) >= heads,
      detail: auditReport
        ? `${auditReport["ok"] ? "intact" : "TAMPERED"}: ${auditReport["entries"]} entries, ${auditReport["heads"]} signed heads, ${auditReport["witnessedHeads"]} witnessed heads found in it (the witness held ${heads})${problems(auditReport)}`
        : `exit ${audit.code}: ${audit.stderr.slice(0, 300)}`,
    },
  ];
}

function problems(report: Record<string, unknown>): string {
  const list = (report["problems"] as Array<{ kind: string; seq: number | null }> | undefined) ?? [];
  return list.length ? `; ${list.map((p) => `${p.kind}@${p.seq}`).join(", ")}` : "";
}

function parseJson(stdout: string): Record<string, unknown> | null {
  const line = stdout
    .trim()
    .split("\n")
    .find((l) => l.startsWith("{"));
  try {
    return line ? (JSON.parse(line) as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Every payment acknowledged before the backup is in the restored copy, in the state the clients were told. */
async function acknowledgedKept(site: SourceSite, url: string, before: Set<string>): Promise<Check> {
  const wrong: string[] = [];
  for (const [id, claim] of site.load.claims) {
    if (!before.has(id)) continue;
    const answer = await api<{ status: string; amount: number }>(
      url,
      "GET",
      `/v1/payments/${id}`,
      site.merchant.secretKey,
    );
    const ack = claim.acknowledged;
    const expected = ack.has("canceled")
      ? ["canceled"]
      : ack.has("captured") || ack.has("refunded")
        ? ["captured"]
        : ack.has("authorized")
          ? ["authorized", "captured", "canceled"]
          : null;
    if (answer.status !== 200 || answer.body.amount !== claim.amount) wrong.push(`${id}: ${answer.status}`);
    else if (expected && !expected.includes(answer.body.status)) wrong.push(`${id}: ${answer.body.status}`);
  }
  return {
    name: "every payment acknowledged before the backup is in the copy",
    ok: wrong.length === 0 && before.size > 0,
    detail: wrong.length
      ? `${wrong.length} wrong: ${wrong.slice(0, 5).join("; ")}`
      : `${before.size} payments, each as acknowledged`,
  };
}

export async function runRestoreDrill(options: RestoreOptions, progress: (line: string) => void): Promise<RestoreRun> {
  const figures: Array<[string, string]> = [];
  const checks: Check[] = [];
  const started = Date.now();
  const launcher = options.inProcess ? inProcessLauncher : processLauncher;
  const site = await startSourceSite(options.databaseUrl, options.keys, launcher, progress);
  let sealed: SealedProbe | null = null;
  try {
    progress(`${options.rounds} payments on the source site`);
    const paying = await timed(() => site.pay(options.rounds));
    figures.push(["payments before the backup", `${site.load.claims.size} (${paying.seconds.toFixed(1)} s)`]);
    await deliveriesSettled(site, site.server.url);
    const delivered = site.receiver.accepted().length;
    const heads = await witnessSettled(site);
    const before = new Set(site.load.claims.keys());

    // The backup, then the disaster: the source site's pay server is gone.
    const backupDir = join(site.dir, "backup");
    await mkdir(backupDir, { recursive: true });
    const restoredDir = join(site.dir, "restored");
    let restoredEnv: Record<string, string>;
    /** When the restore began: from here to the first payment on the copy is the recovery time. */
    let lostAt = Date.now();
    if (site.payDatabase && site.serverUrl) {
      const tools = await postgresTools(site.serverUrl);
      figures.push(["PostgreSQL server / client tools", `${tools.version} / ${tools.bin || "PATH"}`]);
      figures.push(["source database size", megabytes(await databaseBytes(site.payDatabase.url))]);
      const file = join(backupDir, "pay.dump");
      progress("pg_dump -Fc while the source server serves");
      const dump = await timed(() => dumpCustom(tools.bin, site.payDatabase!.url, file));
      figures.push(["pg_dump -Fc", `${dump.seconds.toFixed(2)} s, ${megabytes(await sizeOf(file))}`]);
      await site.server.stop();
      const target = await createScratchDatabase(site.serverUrl, `mpay_drill_restore_dst_${randomSuffix()}`);
      site.dropOnClose(target);
      progress(`pg_restore into ${target.name}`);
      lostAt = Date.now();
      const restore = await timed(() => restoreCustom(tools.bin, file, target.url));
      figures.push([
        "pg_restore (new database)",
        `${restore.seconds.toFixed(2)} s, ${megabytes(await databaseBytes(target.url))}`,
      ]);
      restoredEnv = { DATABASE_URL: target.url, MPAY_DB_POOL: "4", MPAY_DATA_DIR: restoredDir };
    } else {
      // PGlite: one process holds the folder, so the backup is taken with the server stopped.
      await site.server.stop();
      const folder = join(backupDir, "db");
      progress("copying the stopped PGlite folder");
      const copy = await timed(() => copyFolder(join(site.payDir, "db"), folder));
      figures.push([
        "copy of the stopped PGlite folder",
        `${copy.seconds.toFixed(2)} s, ${megabytes(await sizeOf(folder))}`,
      ]);
      lostAt = Date.now();
      const restore = await timed(() => copyFolder(folder, join(restoredDir, "db")));
      figures.push(["restore (copy into a new data folder)", `${restore.seconds.toFixed(2)} s`]);
      restoredEnv = { MPAY_DATA_DIR: restoredDir };
    }

    // What the operator checks before letting anyone pay against the copy.
    const openEnv = { ...restoredEnv, ...(await site.custody.restoredOpenEnv(restoredDir)) };
    progress("mpay ledger verify and mpay audit verify --witness on the restored copy");
    const verifying = await timed(() =>
      verifyCopy(openEnv, site.witnessUrl, site.custody.unsealInput(), heads.length, "on the restored copy"),
    );
    checks.push(...verifying.value);
    figures.push(["ledger + audit verification", `${verifying.seconds.toFixed(2)} s`]);

    // The restored server: sealed first with shamir and pkcs11, until the custodians act. The recovery time leaves
    // out what only the drill does (probing the sealed copy; with pkcs11, the server started on the empty token).
    let server: RunningPay;
    const starting = Date.now();
    let probing = 0;
    if (site.custody.kind === "dev") {
      server = await site.startPay({ ...site.custody.env, ...openEnv });
    } else {
      const sealedEnv = { ...restoredEnv, ...(await site.custody.restoredSealedEnv(restoredDir)) };
      const first = await site.startPay({ ...site.baseEnv, ...sealedEnv });
      const probeStarted = Date.now();
      sealed = await checkSealedCopy(site, first, site.custody.secrets());
      checks.push(...sealed.checks);
      progress(`the restored copy opens nothing: ${sealed.code}; the custodians act`);
      if (site.custody.kind === "shamir") {
        probing = (Date.now() - probeStarted) / 1000;
        await site.custody.unsealServer(first.url);
        server = first;
      } else {
        await first.stop();
        probing = (Date.now() - starting) / 1000;
        server = await site.startPay(openEnv);
      }
    }
    const readyAt = Date.now();
    figures.push([
      "restored server up and open (start, custodians)",
      `${((readyAt - starting) / 1000 - probing).toFixed(1)} s`,
    ]);
    figures.push([
      "recovery time: restore, verify, start, custodians",
      `${((readyAt - lostAt) / 1000 - probing).toFixed(1)} s`,
    ]);
    checks.push(await acknowledgedKept(site, server.url, before));

    progress(`${options.roundsAfter} payments on the restored copy`);
    const after = await timed(() => site.pay(options.roundsAfter));
    const newOnes = [...site.load.claims].filter(([id]) => !before.has(id));
    const captured = newOnes.filter(([, c]) => c.acknowledged.has("captured")).length;
    const authorized = newOnes.filter(([, c]) => c.acknowledged.has("authorized")).length;
    checks.push({
      name: "payments continue on the restored copy (phone, card, issuer, capture)",
      ok: authorized > 0 && captured > 0,
      detail: `${newOnes.length} created, ${authorized} approved on the phone with its card, ${captured} captured (${after.seconds.toFixed(1)} s)`,
    });
    figures.push(["payments on the restored copy", `${options.roundsAfter} rounds in ${after.seconds.toFixed(1)} s`]);
    await deliveriesSettled(site, server.url);
    const deliveredAfter = site.receiver.accepted().length - delivered;
    checks.push({
      name: "the webhook endpoint gets the restored copy's events, signed with its restored secret",
      ok: deliveredAfter > 0 && site.receiver.accepted().every((m) => m.verified),
      detail: `${deliveredAfter} more events delivered and verified`,
    });
    const headsAfter = await witnessSettled(site);
    await server.stop();
    checks.push(
      ...(await verifyCopy(
        openEnv,
        site.witnessUrl,
        site.custody.unsealInput(),
        headsAfter.length,
        "after the new payments",
      )),
    );
    checks.push({
      name: "the witness accepts the restored log's new heads (it grows, no fork)",
      ok: headsAfter.length > heads.length,
      detail: `${heads.length} heads at the backup, ${headsAfter.length} after`,
    });
    figures.push(["drill wall time", `${((Date.now() - started) / 1000).toFixed(1)} s`]);
    return { options, figures, checks, sealed };
  } finally {
    await site.close();
  }
}

export function restoreReport(run: RestoreRun): string {
  const { options } = run;
  const width = Math.max(...run.figures.map(([k]) => k.length));
  return [
    `Restore drill (${options.databaseUrl ? "PostgreSQL" : "embedded PGlite"}, ${options.keys} keys)`,
    "",
    ...run.figures.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`),
    "",
    "Checks:",
    ...run.checks.map((c) => `  ${c.ok ? "ok  " : "FAIL"} ${c.name}: ${c.detail}`),
  ].join("\n");
}

export const restoreDrill: Drill = {
  summary: "dump, restore into a new database, verify ledger and audit log against the witness, and pay on",
  usage: USAGE,
  async run(args, progress): Promise<DrillResult> {
    const options = parseRestoreOptions(args);
    const run = await runRestoreDrill(options, progress);
    const command = [
      "npm run drill -- restore",
      `--keys ${options.keys}`,
      ...(options.databaseUrl ? [] : ["--embedded"]),
      `--rounds ${options.rounds}`,
      `--rounds-after ${options.roundsAfter}`,
    ].join(" ");
    return { ok: run.checks.every((c) => c.ok), report: restoreReport(run), command };
  },
};
