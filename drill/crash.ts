/**
 * `npm run drill -- crash`: the window between commit and answer (issue 12). The real system — the issuer host and
 * the pay server as processes, a merchant's webhook endpoint, a payer's phone — under load (several payments in
 * flight), while three kinds of crash land:
 * - the pay server dies (SIGKILL, by its PAY_TEST_FAULTS fault points: services/pay/src/fault-points.ts) at one
 *   armed point per life, and is started again on the same database;
 * - every few lives the issuer host is killed at a random moment, comes back armed at its after-commit point
 *   (ISSUER_TEST_KILL_AFTER_COMMIT) and dies there too (crash-issuer.ts);
 * - on PostgreSQL, the servers' database connections are ended at random moments (crash-connections.ts).
 * At the end the reconciler settles what was in doubt and the drill proves the invariants (crash-invariants.ts).
 * A point that was armed and never reached counts as missed, as does a kind of crash that never landed: a drill
 * whose kills never land proves nothing.
 */
import { FAULT_POINTS, type FaultPoint } from "../services/pay/src/fault-points.ts";
import type { PayProcess } from "../e2e/support/pay-process.ts";
import { serverUrl } from "../bench/postgres.ts";
import { parseOptions, UsageError, type Drill, type DrillResult } from "./scenario.ts";
import { settleAndDeliver, startCrashSystem, type CrashSystem } from "./crash-system.ts";
import { CrashLoad } from "./crash-load.ts";
import { checkInvariants, queuedEvents, type Invariant } from "./crash-invariants.ts";

/**
 * The order the points are armed in: each reconciler point right after a crash that leaves an authorization in
 * doubt (the issuer decided, the pay server did not record it), so the next life's reconciler has one to settle.
 */
const ARMING_ORDER: readonly FaultPoint[] = [
  "payment.create.after-commit",
  "approval.release.before-commit",
  "approval.release.after-commit",
  "authorization.before-issuer",
  "authorization.after-commit",
  "authorization.after-issuer",
  "reconciler.before-issuer",
  "reconciler.after-issuer",
  "reconciler.after-commit",
  "capture.before-issuer",
  "capture.after-issuer",
  "void.before-issuer",
  "void.after-issuer",
  "refund.before-issuer",
  "refund.after-issuer",
  "merchant.answer.after-commit",
  "webhook.before-send",
  "webhook.after-send",
  "webhook.after-commit",
];

export interface CrashOptions {
  crashes: number;
  points: FaultPoint[];
  /** PostgreSQL server for throwaway databases; undefined → PGlite. */
  databaseUrl: string | undefined;
  /** How long one life may take to reach its point before it counts as missed. */
  lifeSeconds: number;
  /** Payments in flight at once. */
  inFlight: number;
  /** The issuer host killed at a random moment every this many lives (0: never). */
  issuerEvery: number;
  /** PostgreSQL connections ended per life, at random moments (PostgreSQL only). */
  connectionKills: number;
  /** No new life after this many minutes (the settling and the checks still run); undefined: all lives. */
  minutes: number | undefined;
}

/** Crashes that landed, by kind. */
export interface CrashTally {
  pay: number;
  issuerRandom: number;
  issuerAfterCommit: number;
  /** Server connections ended; null on PGlite (not applicable). */
  connections: number | null;
}

export interface PointTally {
  armed: number;
  hit: number;
}

export interface CrashRun {
  options: CrashOptions;
  /** Lives run (fewer than asked when --minutes ran out). */
  lives: number;
  points: Map<FaultPoint, PointTally>;
  crashes: CrashTally;
  invariants: Invariant[];
  payments: number;
  rounds: number;
  refusals: Record<string, number>;
  /** 5xx answers to merchant requests (retried with their keys). */
  serverErrors: number;
  /** Error lines the pay servers logged. */
  logged: string[];
  seconds: number;
}

const USAGE = [
  `  --crashes N          pay-server lives, one armed point each (default ${ARMING_ORDER.length * 2}: every point twice)`,
  "  --points a,b         only these points (default all):",
  ...ARMING_ORDER.map((p) => `                         ${p}`),
  "  --database-url URL   PostgreSQL server for throwaway databases (default DATABASE_URL; neither → PGlite)",
  "  --life-seconds S     how long a life may take to reach its point before it counts as missed (default 20)",
  "  --in-flight N        payments in flight at once (default 4)",
  "  --issuer-every N     kill the issuer host at a random moment every N lives; it comes back armed at its",
  "                       after-commit point and dies there too (default 3; 0: never)",
  "  --connection-kills N PostgreSQL connections of the servers ended per life at random moments (default 3;",
  "                       PostgreSQL only)",
  "  --minutes M          start no new life after M minutes, then settle and check (default: run every life)",
].join("\n");

export function parseCrashOptions(args: string[], env: NodeJS.ProcessEnv = process.env): CrashOptions {
  const { values, integer, positiveInteger } = parseOptions(args, {
    crashes: { type: "string" },
    points: { type: "string" },
    "database-url": { type: "string" },
    "life-seconds": { type: "string" },
    "in-flight": { type: "string" },
    "issuer-every": { type: "string" },
    "connection-kills": { type: "string" },
    minutes: { type: "string" },
  });
  const asked = values.points?.split(",").map((p) => p.trim()) ?? [...ARMING_ORDER];
  const unknown = asked.filter((p) => !(FAULT_POINTS as readonly string[]).includes(p));
  if (unknown.length > 0) throw new UsageError(`unknown fault point(s) ${unknown.join(", ")}`);
  const points = ARMING_ORDER.filter((p) => asked.includes(p));
  const databaseUrl = values["database-url"] ?? (env["DATABASE_URL"] ? serverUrl(env) : undefined);
  return {
    crashes: positiveInteger("crashes", points.length * 2),
    points,
    databaseUrl,
    lifeSeconds: positiveInteger("life-seconds", 20),
    inFlight: positiveInteger("in-flight", 4),
    issuerEvery: integer("issuer-every", 3, 0),
    connectionKills: databaseUrl ? integer("connection-kills", 3, 0) : 0,
    minutes: positiveInteger("minutes", undefined),
  };
}

/** Error lines a pay server logged (level ≥ 50), for the report: what a 5xx answer was. */
function loggedErrors(output: string): string[] {
  return output
    .split("\n")
    .filter((line) => /"level":(50|60)/.test(line))
    .map((line) => {
      try {
        const entry = JSON.parse(line) as { msg?: string; err?: { message?: string; code?: string } };
        return `${entry.msg ?? ""}: ${entry.err?.message ?? ""} ${entry.err?.code ?? ""}`.trim();
      } catch {
        return line.slice(0, 200);
      }
    });
}

/** What else lands during one life: the issuer host killed (when) and database connections ended (when). */
interface LifeChaos {
  issuerKillAtMs: number | null;
  connectionKillsAtMs: number[];
}

/**
 * Random moments in the first seconds of the life, when the load is running (and the pay point not yet hit). An
 * issuer kill that found its life already over (the pay point hit first: on a fast machine most lives are short) is
 * owed to the next life, sooner in it, so a run of N lives kills the issuer host about N / issuerEvery times.
 */
function chaosOf(life: number, options: CrashOptions, issuerKillOwed: boolean): LifeChaos {
  const moment = () => 50 + Math.floor(Math.random() * 1500);
  const due = issuerKillOwed || (options.issuerEvery > 0 && life % options.issuerEvery === options.issuerEvery - 1);
  return {
    issuerKillAtMs: due ? (issuerKillOwed ? Math.floor(Math.random() * 200) : moment()) : null,
    connectionKillsAtMs: Array.from({ length: options.connectionKills }, moment).sort((a, b) => a - b),
  };
}

/** Lands the life's chaos at its moments while the life lasts; the connections it ended. */
async function unleash(system: CrashSystem, chaos: LifeChaos, over: () => boolean): Promise<number> {
  const started = Date.now();
  const at = async (ms: number) => {
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, started + ms - Date.now())));
    return !over();
  };
  const issuer = async () => {
    if (chaos.issuerKillAtMs !== null && (await at(chaos.issuerKillAtMs))) await system.issuerHost.killAtRandom();
  };
  const connections = async () => {
    let ended = 0;
    for (const ms of chaos.connectionKillsAtMs)
      if (system.terminateConnections && (await at(ms))) ended += await system.terminateConnections(1);
    return ended;
  };
  const [, ended] = await Promise.all([issuer(), connections()]);
  return ended;
}

/**
 * One life: the server armed with `point`, load until it dies there (true) or the life's time is up (false),
 * with the life's chaos landing meanwhile.
 */
async function live(
  system: CrashSystem,
  load: CrashLoad,
  point: FaultPoint,
  lifeSeconds: number,
  chaos: LifeChaos,
  tally: CrashTally,
  logged: string[],
  deaths: string[],
): Promise<boolean> {
  let server: PayProcess;
  try {
    server = await system.startPay(point);
  } catch (error) {
    // A point the workers pass (the reconciler, the webhook sender) may come before the server reports ready.
    if (error instanceof Error && error.message.includes(`dying at ${point}`)) return true;
    throw error;
  }
  let dead = server.child.exitCode !== null || server.child.signalCode !== null;
  const exited = new Promise<void>((resolve) => (dead ? resolve() : server.child.once("exit", () => resolve()))).then(
    () => {
      dead = true;
    },
  );
  // The issuer host's downtime does not count: a point behind an authorization cannot be reached while it is down.
  let deadline = Date.now() + lifeSeconds * 1000;
  const over = () => {
    if (system.issuerHost.down) deadline = Math.max(deadline, Date.now() + 5_000);
    return dead || Date.now() > deadline;
  };
  await load.resend();
  const landing = unleash(system, chaos, over);
  while (!over()) {
    if ((await load.run(over)) === "no_answer")
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 3000))]);
  }
  const ended = await landing;
  if (tally.connections !== null) tally.connections += ended;
  logged.push(...loggedErrors(server.output()));
  if (!dead) {
    await server.stop();
    return false;
  }
  const output = server.output();
  if (server.child.signalCode !== "SIGKILL" || !output.includes(`dying at ${point}`)) {
    // A death of its own (an error nothing handled, a lost database connection): a finding, kept for the report.
    deaths.push(
      `armed at ${point}, died ${server.child.signalCode ?? `with exit ${server.child.exitCode}`}: ${lastLines(output)}`,
    );
    return false;
  }
  return true;
}

/** The end of a dead server's output, where its last error is. */
function lastLines(output: string): string {
  return output.trim().split("\n").slice(-12).join(" | ").slice(-1500);
}

export async function runCrashDrill(options: CrashOptions, progress: (line: string) => void): Promise<CrashRun> {
  const started = Date.now();
  let load: CrashLoad | undefined;
  const system = await startCrashSystem(options.databaseUrl, progress, async (payUrl, parts) => {
    progress("binding the payer's phone and enrolling its card");
    load = await CrashLoad.prepare({
      payUrl,
      dir: parts.dir,
      sessionToken: parts.sessionToken,
      secretKey: parts.merchant.secretKey,
      issuer: parts.issuer,
      inFlight: options.inFlight,
    });
  });
  try {
    if (!load) throw new Error("the load was not prepared");
    const points = new Map<FaultPoint, PointTally>(options.points.map((p) => [p, { armed: 0, hit: 0 }]));
    let lives = 0;
    const logged: string[] = [];
    const deaths: string[] = [];
    const crashes: CrashTally = {
      pay: 0,
      issuerRandom: 0,
      issuerAfterCommit: 0,
      connections: system.terminateConnections ? 0 : null,
    };
    let issuerKillOwed = false;
    for (let life = 0; life < options.crashes; life++) {
      if (options.minutes !== undefined && Date.now() - started > options.minutes * 60_000) break;
      lives++;
      const point = options.points[life % options.points.length] as FaultPoint;
      const tally = points.get(point) as PointTally;
      tally.armed++;
      const chaos = chaosOf(life, options, issuerKillOwed);
      const issuerKillsBefore = system.issuerHost.kills.random;
      const hit = await live(system, load, point, options.lifeSeconds, chaos, crashes, logged, deaths);
      issuerKillOwed = chaos.issuerKillAtMs !== null && system.issuerHost.kills.random === issuerKillsBefore;
      if (hit) {
        tally.hit++;
        crashes.pay++;
      }
      crashes.issuerRandom = system.issuerHost.kills.random;
      crashes.issuerAfterCommit = system.issuerHost.kills.afterCommit;
      progress(
        `life ${life + 1}/${options.crashes} (${((Date.now() - started) / 1000).toFixed(0)} s): ${point} ${tally.hit > 0 ? "hit" : "missed"} (${tally.hit}/${tally.armed}); ${crashesLine(crashes)}`,
      );
    }
    await system.issuerHost.settle();
    crashes.issuerRandom = system.issuerHost.kills.random;
    crashes.issuerAfterCommit = system.issuerHost.kills.afterCommit;

    progress("settling what is in doubt");
    let answered = false;
    const { inDoubt, delivered } = await settleAndDeliver(system, async () => {
      answered = await load!.resend();
    });

    const invariants = await system.withSystem(async (pay) => [
      ...(await checkInvariants({
        system: pay,
        claims: load!.claims,
        issuerLink: system.issuerLink,
        delivered: delivered(),
        queued: await queuedEvents(pay, system.endpointId),
      })),
      ...retryInvariants(load!, answered, points.get("merchant.answer.after-commit")?.hit ?? 0),
      {
        name: "the pay server died only where the drill killed it",
        ok: deaths.length === 0,
        detail:
          deaths.length === 0
            ? `${crashes.pay} deaths, each at its armed point`
            : `${deaths.length} death(s) of its own: ${deaths.slice(0, 2).join("; ")}`,
      },
      {
        name: "the issuer host died only where the drill killed it",
        ok: system.issuerHost.deaths.length === 0,
        detail:
          system.issuerHost.deaths.length === 0
            ? `${crashes.issuerRandom} random kills, ${crashes.issuerAfterCommit} after its commit`
            : system.issuerHost.deaths.slice(0, 2).join("; "),
      },
      {
        name: "nothing left in doubt after the reconciler",
        ok: inDoubt.length === 0,
        detail:
          inDoubt.length === 0
            ? "no issuer operation pending"
            : `${inDoubt.length} issuer operation(s) still pending: ${inDoubt.slice(0, 5).join("; ")}`,
      },
    ]);
    return {
      options,
      lives,
      points,
      crashes,
      invariants,
      payments: load.claims.size,
      rounds: load.tally.rounds,
      refusals: load.tally.refusals,
      serverErrors: load.tally.serverErrors,
      logged,
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    await system.close();
  }
}

/**
 * What the merchant's retries prove: every request was answered in the end (a 5xx or a cut-off answer retried
 * with its key), and a request cut off after its commit got its own stored answer back.
 */
function retryInvariants(load: CrashLoad, answered: boolean, cutOff: number): Invariant[] {
  const { replayed, replayMismatches, serverErrors, inDoubt } = load.tally;
  return [
    {
      name: "every merchant request answered in the end (retried with its key)",
      ok: answered && load.unanswered === 0,
      detail: answered
        ? `${serverErrors} 5xx answers, each answered on a retry (${inDoubt} with the stored word that the issuer's outcome was in doubt)`
        : `${load.unanswered} request(s) never answered (no answer or 5xx every time): ${load.unansweredSample().join("; ")}`,
    },
    {
      name: "a retry after an answer lost past its commit gets the stored answer",
      ok: replayMismatches.length === 0 && replayed >= cutOff,
      detail:
        replayMismatches.length > 0
          ? `${replayMismatches.length} replayed answer(s) not this request's: ${replayMismatches.slice(0, 3).join("; ")}`
          : `${replayed} retries replayed (${cutOff} answers cut off at merchant.answer.after-commit)`,
    },
  ];
}

/** Total crashes of every kind. */
export function crashCount(crashes: CrashTally): number {
  return crashes.pay + crashes.issuerRandom + crashes.issuerAfterCommit + (crashes.connections ?? 0);
}

function crashesLine(crashes: CrashTally): string {
  const connections = crashes.connections === null ? "n/a on PGlite" : String(crashes.connections);
  return `pay ${crashes.pay}, issuer ${crashes.issuerRandom} random + ${crashes.issuerAfterCommit} after commit, pg connections ${connections}`;
}

export function crashReport(run: CrashRun): string {
  const width = Math.max(...ARMING_ORDER.map((p) => p.length));
  const lines = [
    `Crash drill (${run.options.databaseUrl ? "PostgreSQL" : "PGlite"}): ${crashCount(run.crashes)} crashes in ${run.lives} lives, ${run.rounds} rounds (${run.options.inFlight} in flight), ${run.payments} payments acknowledged, ${run.seconds.toFixed(1)} s`,
    `Crashes by kind: ${crashesLine(run.crashes)}`,
    "",
    `${"fault point".padEnd(width)}  armed  hit`,
    ...[...run.points].map(
      ([point, t]) =>
        `${point.padEnd(width)}  ${String(t.armed).padStart(5)}  ${String(t.hit).padStart(3)}${t.armed > 0 && t.hit === 0 ? "  MISSED" : ""}`,
    ),
    ...missedKinds(run).map((kind) => `MISSED: ${kind}`),
    "",
    "Invariants:",
    ...run.invariants.map((i) => `  ${i.ok ? "ok  " : "FAIL"} ${i.name}: ${i.detail}`),
  ];
  const logged = new Map<string, number>();
  for (const line of run.logged) logged.set(line, (logged.get(line) ?? 0) + 1);
  if (logged.size > 0)
    lines.push(
      "",
      "Errors the pay servers logged (by message):",
      ...[...logged].slice(0, 10).map(([line, n]) => `  ${n} × ${line.slice(0, 240)}`),
    );
  const refusals = Object.entries(run.refusals);
  if (refusals.length > 0)
    lines.push(
      "",
      "Refused or declined answers (expected after crashes; none is an acknowledgment):",
      ...refusals.map(([what, n]) => `  ${what}: ${n}`),
    );
  return lines.join("\n");
}

export const crashDrill: Drill = {
  summary:
    "kill the pay server at every fault point, the issuer host and PostgreSQL connections under load, restart, and prove nothing was lost or doubled",
  usage: USAGE,
  async run(args, progress): Promise<DrillResult> {
    const options = parseCrashOptions(args);
    const run = await runCrashDrill(options, progress);
    const missed = [...run.points.values()].some((t) => t.armed > 0 && t.hit === 0) || missedKinds(run).length > 0;
    const command = [
      "npm run drill -- crash",
      `--crashes ${options.crashes}`,
      `--points ${options.points.join(",")}`,
      `--in-flight ${options.inFlight} --issuer-every ${options.issuerEvery} --connection-kills ${options.connectionKills}`,
      ...(options.databaseUrl ? [`--database-url ${redact(options.databaseUrl)}`] : []),
    ].join(" ");
    return { ok: !missed && run.invariants.every((i) => i.ok), report: crashReport(run), command };
  },
};

/** Kinds of crash the options asked for that never landed. */
export function missedKinds(run: CrashRun): string[] {
  const { crashes, options } = run;
  const asked = options.issuerEvery > 0 && run.lives >= options.issuerEvery;
  return [
    ...(asked && crashes.issuerRandom === 0 ? ["issuer host at random"] : []),
    ...(asked && crashes.issuerAfterCommit === 0 ? ["issuer host after its commit"] : []),
    ...(options.connectionKills > 0 && crashes.connections === 0 ? ["PostgreSQL connections"] : []),
  ];
}

/** A database URL without its password, for the report. */
function redact(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = "***";
  return u.toString();
}
