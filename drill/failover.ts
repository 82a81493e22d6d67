/**
 * `npm run drill -- failover`: PostgreSQL failover under load (issue 12). A pg_auto_failover formation on this
 * machine (failover-formation.ts: monitor, primary, synchronous standby), the crash drill's system on it (issuer
 * host, pay server, payer's phone, merchant; crash-system.ts) with DATABASE_URL listing both nodes, payments
 * driven by the phone (CrashLoad) and by a merchant that retries with its Idempotency-Key (failover-merchant.ts).
 * The primary is killed (SIGKILL to its keeper and postmaster); the load goes on while the monitor promotes the
 * standby. Then: every acknowledged payment exists with its status on the new primary, and the crash drill's
 * invariants hold. The report says how long payments stalled.
 */
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { parseOptions, UsageError, type Drill, type DrillResult } from "./scenario.ts";
import { settleAndDeliver, startCrashSystem } from "./crash-system.ts";
import { CrashLoad } from "./crash-load.ts";
import { checkInvariants, queuedEvents, type Invariant } from "./crash-invariants.ts";
import { FailoverMerchant, type ClientError } from "./failover-merchant.ts";
import { INSTALL_HINT, pgAutoctlMissing, startFormation, type Formation } from "./failover-formation.ts";

export interface FailoverOptions {
  ports: [number, number, number];
  /** Load before the kill, and after the first payment the new primary took. */
  warmupSeconds: number;
  afterSeconds: number;
  /** pg_auto_failover's default timeouts instead of the drill's shortened ones. */
  defaultTimeouts: boolean;
}

const USAGE = [
  "  --ports M,P,S          monitor, primary and standby ports (default 55430,55431,55432)",
  "  --warmup-seconds N     load before the primary is killed (default 10)",
  "  --after-seconds N      load after the first payment on the new primary (default 10)",
  "  --default-timeouts     keep pg_auto_failover's default monitor timeouts (failover ≈ 50 s instead of ≈ 10 s)",
].join("\n");

export function parseFailoverOptions(args: string[]): FailoverOptions {
  const { values, positiveInteger } = parseOptions(args, {
    ports: { type: "string" },
    "warmup-seconds": { type: "string" },
    "after-seconds": { type: "string" },
    "default-timeouts": { type: "boolean" },
  });
  const ports = (values.ports ?? "55430,55431,55432").split(",").map(Number);
  if (ports.length !== 3 || ports.some((p) => !Number.isSafeInteger(p) || p < 1024 || p > 65535))
    throw new UsageError(`--ports must be three ports from 1024 to 65535, got ${values.ports}`);
  return {
    ports: ports as [number, number, number],
    warmupSeconds: positiveInteger("warmup-seconds", 10),
    afterSeconds: positiveInteger("after-seconds", 10),
    defaultTimeouts: values["default-timeouts"] ?? false,
  };
}

export interface FailoverRun {
  options: FailoverOptions;
  killedPort: number;
  newPrimary: number | undefined;
  /** Seconds from the kill until the monitor reported the standby promoted. */
  promotedAfter: number | undefined;
  /** Seconds from the kill to the first payment sent after it being acknowledged. */
  firstSuccessAfter: number | undefined;
  /** The longest time without an acknowledgment, over the whole run. */
  longestGap: number;
  acknowledged: number;
  acknowledgedAfterKill: number;
  retriedAndAcknowledged: number;
  errors: Record<string, number>;
  refused: string[];
  missingOnNewPrimary: string[];
  invariants: Invariant[];
  setupSeconds: number;
  seconds: number;
}

/** Payments found on the new primary, read with a single-host connection to it. */
async function paymentsOn(url: string, ids: string[]): Promise<Map<string, string>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const rows = await client.query<{ id: string; status: string }>(
      "select id, status from payments where id = any($1)",
      [ids],
    );
    return new Map(rows.rows.map((r) => [r.id, r.status]));
  } finally {
    await client.end();
  }
}

export async function runFailoverDrill(
  options: FailoverOptions,
  progress: (line: string) => void,
): Promise<FailoverRun> {
  const started = Date.now();
  const formation: Formation = await startFormation({
    ports: options.ports,
    shortTimeouts: !options.defaultTimeouts,
    progress,
  });
  const setupSeconds = (Date.now() - started) / 1000;
  try {
    const [primaryPort] = formation.nodePorts;
    // The throwaway databases are made on the primary; the processes reach them through every node.
    const multiHost = (scratchUrl: string) => {
      const name = new URL(scratchUrl).pathname.slice(1);
      return `postgres://postgres@${formation.hosts}/${name}?target_session_attrs=read-write`;
    };
    let load: CrashLoad | undefined;
    const system = await startCrashSystem(
      formation.nodeUrl(primaryPort),
      progress,
      async (payUrl, parts) => {
        progress("binding the payer's phone and enrolling its card");
        load = await CrashLoad.prepare({
          payUrl,
          dir: parts.dir,
          sessionToken: parts.sessionToken,
          secretKey: parts.merchant.secretKey,
          issuer: parts.issuer,
        });
      },
      multiHost,
    );
    try {
      if (!load) throw new Error("the load was not prepared");
      const phone = load;
      const server = await system.startPay(null);
      const merchant = new FailoverMerchant(server.url, system.merchant.secretKey);

      // Every acknowledgment's time: the merchant's own, and the phone's as its claims grow (polled).
      const successes: number[] = [];
      const acks = () => [...phone.claims.values()].reduce((n, c) => n + c.acknowledged.size, 0);
      let stopped = false;
      let seen = 0;
      const watcher = (async () => {
        while (!stopped) {
          const now = acks();
          if (now > seen) successes.push(Date.now());
          seen = now;
          await sleep(20);
        }
      })();
      const phoneLoop = (async () => {
        while (!stopped) if ((await phone.run(() => stopped)) === "no_answer") await sleep(200);
      })();
      const merchantLoop = merchant.run(() => stopped);

      progress(`load for ${options.warmupSeconds} s before the kill`);
      await sleep(options.warmupSeconds * 1000);
      const killedPort = (await formation.primary()) ?? primaryPort;
      const killedAt = Date.now();
      formation.kill(killedPort);
      progress(`killed the primary on ${killedPort} (SIGKILL to its keeper and postmaster)`);

      let promotedAt: number | undefined;
      let newPrimary: number | undefined;
      // The first payment sent after the kill and acknowledged: an answer in flight at the kill does not count.
      const firstAfter = () => merchant.acknowledged.find((a) => a.sentAt > killedAt)?.at;
      const deadline = killedAt + (options.defaultTimeouts ? 240_000 : 120_000);
      while (Date.now() < deadline) {
        if (promotedAt === undefined) {
          const primary = await formation.primary().catch(() => undefined);
          if (primary !== undefined && primary !== killedPort) {
            promotedAt = Date.now();
            newPrimary = primary;
            progress(`the monitor promoted ${primary} after ${((promotedAt - killedAt) / 1000).toFixed(1)} s`);
          }
        }
        const first = firstAfter();
        if (first !== undefined && promotedAt !== undefined && Date.now() > first + options.afterSeconds * 1000) break;
        await sleep(250);
      }
      stopped = true;
      await Promise.all([watcher, phoneLoop, merchantLoop]);
      await server.stop();
      const first = firstAfter();
      progress(
        first === undefined
          ? "no payment was acknowledged after the kill"
          : `first payment sent after the kill acknowledged ${((first - killedAt) / 1000).toFixed(1)} s after the kill`,
      );

      // The merchant's payments join the phone's claims: the crash drill's invariants check them all.
      for (const a of merchant.acknowledged)
        phone.claims.set(a.id, { amount: a.amount, acknowledged: new Set(["created"]) });

      progress("settling what is in doubt, delivering queued events");
      const { inDoubt, delivered } = await settleAndDeliver(system);

      // On the new primary itself, by a single-host connection: every acknowledged payment is there.
      const ids = [...phone.claims.keys()];
      const databases = await paymentsDatabase(formation, newPrimary);
      const found = databases ? await paymentsOn(databases, ids) : new Map<string, string>();
      const missingOnNewPrimary = ids.filter((id) => !found.has(id));
      const expectedStatus = new Map(merchant.acknowledged.map((a) => [a.id, a.status]));
      const changed = [...expectedStatus].filter(([id, status]) => found.has(id) && found.get(id) !== status);

      const invariants = await system.withSystem(async (pay) => [
        ...(await checkInvariants({
          system: pay,
          claims: phone.claims,
          issuerLink: system.issuerLink,
          delivered: delivered(),
          queued: await queuedEvents(pay, system.endpointId),
        })),
        {
          name: "nothing left in doubt after the reconciler",
          ok: inDoubt.length === 0,
          detail:
            inDoubt.length === 0
              ? "no issuer operation pending"
              : `${inDoubt.length} pending: ${inDoubt.slice(0, 3).join("; ")}`,
        },
        {
          name: "every acknowledged payment on the new primary",
          ok: newPrimary !== undefined && missingOnNewPrimary.length === 0,
          detail:
            newPrimary === undefined
              ? "no new primary"
              : missingOnNewPrimary.length === 0
                ? `${ids.length} payments found on ${newPrimary}`
                : `${missingOnNewPrimary.length} missing: ${missingOnNewPrimary.slice(0, 5).join(", ")}`,
        },
        {
          name: "the merchant's payments keep the status they were acknowledged with",
          ok: changed.length === 0,
          detail:
            changed.length === 0
              ? `${expectedStatus.size} payments as acknowledged`
              : `${changed.length} changed: ${changed
                  .slice(0, 5)
                  .map(([id, s]) => `${id} ${s}→${found.get(id)}`)
                  .join(", ")}`,
        },
      ]);

      const times = [...successes, ...merchant.acknowledged.map((a) => a.at)].sort((a, b) => a - b);
      let longestGap = 0;
      for (let i = 1; i < times.length; i++)
        longestGap = Math.max(longestGap, (times[i] as number) - (times[i - 1] as number));
      return {
        options,
        killedPort,
        newPrimary,
        promotedAfter: promotedAt === undefined ? undefined : (promotedAt - killedAt) / 1000,
        firstSuccessAfter: first === undefined ? undefined : (first - killedAt) / 1000,
        longestGap: longestGap / 1000,
        acknowledged: ids.length,
        acknowledgedAfterKill: times.filter((t) => t > killedAt).length,
        retriedAndAcknowledged: merchant.acknowledged.filter((a) => a.attempts > 1).length,
        errors: { ...tally(merchant.errors), ...prefixed(phone.tally.refusals) },
        refused: merchant.refused,
        missingOnNewPrimary,
        invariants,
        setupSeconds,
        seconds: (Date.now() - started) / 1000,
      };
    } finally {
      await system.close();
    }
  } finally {
    await formation.close();
  }
}

/** The URL of the pay server's throwaway database on the new primary (the one without `issuer` in its name). */
async function paymentsDatabase(formation: Formation, port: number | undefined): Promise<string | undefined> {
  if (port === undefined) return undefined;
  const client = new pg.Client({ connectionString: formation.nodeUrl(port) });
  await client.connect();
  try {
    const rows = await client.query<{ name: string }>(
      "select datname as name from pg_database where datname like 'mpay_drill_crash_%' and datname not like '%issuer%'",
    );
    const name = rows.rows[0]?.name;
    return name ? formation.nodeUrl(port, name) : undefined;
  } finally {
    await client.end();
  }
}

/** The phone's refused answers (CrashLoad's tally: `<step>:<code>`), apart from the merchant's. */
function prefixed(refusals: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(refusals).map(([what, n]) => [`phone round ${what}`, n]));
}

function tally(errors: ClientError[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const e of errors) counts[e.what] = (counts[e.what] ?? 0) + 1;
  return counts;
}

const seconds = (s: number | undefined) => (s === undefined ? "never" : `${s.toFixed(1)} s`);

export function failoverReport(run: FailoverRun): string {
  const lines = [
    `Failover drill (pg_auto_failover, ${run.options.defaultTimeouts ? "default" : "shortened"} monitor timeouts): formation ready in ${run.setupSeconds.toFixed(1)} s, run ${run.seconds.toFixed(1)} s`,
    "",
    `primary killed:                   ${run.killedPort} (SIGKILL to keeper and postmaster)`,
    `standby promoted:                 ${run.newPrimary ?? "none"} after ${seconds(run.promotedAfter)}`,
    `first payment sent after the kill acknowledged: ${seconds(run.firstSuccessAfter)} after the kill`,
    `longest gap between payments:     ${run.longestGap.toFixed(1)} s`,
    `payments acknowledged:            ${run.acknowledged} (${run.acknowledgedAfterKill} acknowledgments after the kill; ${run.retriedAndAcknowledged} only after a retry with the same Idempotency-Key)`,
    "",
    "Invariants:",
    ...run.invariants.map((i) => `  ${i.ok ? "ok  " : "FAIL"} ${i.name}: ${i.detail}`),
  ];
  const errors = Object.entries(run.errors);
  if (errors.length > 0)
    lines.push(
      "",
      "Errors the clients saw (retried by the merchant with the same key):",
      ...errors.map(([w, n]) => `  ${w}: ${n}`),
    );
  if (run.refused.length > 0)
    lines.push("", "Refused for good (4xx):", ...run.refused.slice(0, 10).map((r) => `  ${r}`));
  return lines.join("\n");
}

export const failoverDrill: Drill = {
  summary: "kill the PostgreSQL primary (pg_auto_failover) under load; prove the pay server follows and loses nothing",
  usage: USAGE,
  async run(args, progress): Promise<DrillResult> {
    const options = parseFailoverOptions(args);
    const command = [
      "sudo npm run drill -- failover",
      `--ports ${options.ports.join(",")}`,
      `--warmup-seconds ${options.warmupSeconds}`,
      `--after-seconds ${options.afterSeconds}`,
      ...(options.defaultTimeouts ? ["--default-timeouts"] : []),
    ].join(" ");
    if (pgAutoctlMissing()) return { ok: false, report: INSTALL_HINT, command };
    const run = await runFailoverDrill(options, progress);
    return { ok: run.invariants.every((i) => i.ok), report: failoverReport(run), command };
  },
};
