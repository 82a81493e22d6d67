/**
 * `npm run drill -- crash`: the window between commit and answer (issue 12). The real system — the issuer host and
 * the pay server as processes, a merchant's webhook endpoint, a payer's phone — under load, while the pay server
 * dies (SIGKILL, by its PAY_TEST_FAULTS fault points: services/pay/src/fault-points.ts) at one armed point per
 * life, and is started again on the same database. At the end the reconciler settles what was in doubt and the
 * drill proves the invariants (crash-invariants.ts). A point that was armed and never reached counts as missed:
 * a drill whose kills never land proves nothing.
 */
import { parseArgs } from "node:util";
import { FAULT_POINTS, type FaultPoint } from "../services/pay/src/fault-points.ts";
import type { PayProcess } from "../e2e/support/pay-process.ts";
import { api, waitFor } from "../e2e/support/http.ts";
import { serverUrl } from "../bench/postgres.ts";
import { parseOptions, UsageError, type Drill, type DrillResult } from "./scenario.ts";
import { startCrashSystem, type CrashSystem } from "./crash-system.ts";
import { CrashLoad } from "./crash-load.ts";
import { checkInvariants, expireDeadLeases, queuedEvents, settleInDoubt, type Invariant } from "./crash-invariants.ts";

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
}

export interface PointTally {
  armed: number;
  hit: number;
}

export interface CrashRun {
  options: CrashOptions;
  points: Map<FaultPoint, PointTally>;
  invariants: Invariant[];
  payments: number;
  rounds: number;
  refusals: Record<string, number>;
  seconds: number;
}

const USAGE = [
  `  --crashes N          pay-server lives, one armed point each (default ${ARMING_ORDER.length * 2}: every point twice)`,
  "  --points a,b         only these points (default all):",
  ...ARMING_ORDER.map((p) => `                         ${p}`),
  "  --database-url URL   PostgreSQL server for throwaway databases (default DATABASE_URL; neither → PGlite)",
  "  --life-seconds S     how long a life may take to reach its point before it counts as missed (default 20)",
].join("\n");

export function parseCrashOptions(args: string[], env: NodeJS.ProcessEnv = process.env): CrashOptions {
  const { values } = parseOptions(() =>
    parseArgs({
      args,
      options: {
        crashes: { type: "string" },
        points: { type: "string" },
        "database-url": { type: "string" },
        "life-seconds": { type: "string" },
      },
      strict: true,
    }),
  );
  const positive = (raw: string | undefined, name: string, fallback: number) => {
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive integer, got ${raw}`);
    return n;
  };
  const asked = values.points?.split(",").map((p) => p.trim()) ?? [...ARMING_ORDER];
  const unknown = asked.filter((p) => !(FAULT_POINTS as readonly string[]).includes(p));
  if (unknown.length > 0) throw new UsageError(`unknown fault point(s) ${unknown.join(", ")}`);
  const points = ARMING_ORDER.filter((p) => asked.includes(p));
  const databaseUrl = values["database-url"] ?? (env["DATABASE_URL"] ? serverUrl(env) : undefined);
  return {
    crashes: positive(values.crashes, "crashes", points.length * 2),
    points,
    databaseUrl,
    lifeSeconds: positive(values["life-seconds"], "life-seconds", 20),
  };
}

/** One life: the server armed with `point`, load until it dies there (true) or the life's time is up (false). */
async function live(system: CrashSystem, load: CrashLoad, point: FaultPoint, lifeSeconds: number): Promise<boolean> {
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
  const deadline = Date.now() + lifeSeconds * 1000;
  const over = () => dead || Date.now() > deadline;
  await load.resend();
  while (!over()) {
    if ((await load.run(over)) === "no_answer")
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 3000))]);
  }
  if (!dead) {
    await server.stop();
    return false;
  }
  const output = server.output();
  if (server.child.signalCode !== "SIGKILL" || !output.includes(`dying at ${point}`))
    throw new Error(
      `the pay server died on its own (${server.child.signalCode ?? `exit ${server.child.exitCode}`}) while armed at ${point}:\n${output.slice(-3000)}`,
    );
  return true;
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
    });
  });
  try {
    if (!load) throw new Error("the load was not prepared");
    const points = new Map<FaultPoint, PointTally>(options.points.map((p) => [p, { armed: 0, hit: 0 }]));
    for (let life = 0; life < options.crashes; life++) {
      const point = options.points[life % options.points.length] as FaultPoint;
      const tally = points.get(point) as PointTally;
      tally.armed++;
      if (await live(system, load, point, options.lifeSeconds)) tally.hit++;
      progress(
        `life ${life + 1}/${options.crashes}: ${point} ${tally.hit > 0 ? "hit" : "missed"} (${tally.hit}/${tally.armed})`,
      );
    }

    // What the crashes left: the reconciler settles it (an hour later, past every terms' deadline), the dead
    // processes' webhook leases end, and a clean server delivers every event still queued.
    progress("settling what is in doubt");
    const { inDoubt, queued } = await system.withSystem(async (pay, clock) => {
      const left = await settleInDoubt(pay, clock.now());
      await expireDeadLeases(pay);
      return { inDoubt: left, queued: await queuedEvents(pay, system.endpointId) };
    }, 1);
    const clean = await system.startPay(null);
    const delivered = () => new Set(system.receiver.accepted().map((m) => m.eventId ?? ""));
    if (!(await load.resend())) throw new Error("the merchant's retries got no answer from a clean server");
    // Until the endpoint has every event queued before, and the server none pending (the retries made more).
    const pendingDeliveries = async () =>
      (
        await api<{ data: unknown[] }>(
          clean.url,
          "GET",
          `/v1/webhook-endpoints/${system.endpointId}/deliveries?status=pending`,
          system.merchant.secretKey,
        )
      ).body.data?.length ?? 1;
    await waitFor(
      "every queued event delivered",
      async () => (queued.every((id) => delivered().has(id)) && (await pendingDeliveries()) === 0 ? true : undefined),
      30_000,
      100,
    ).catch(() => undefined); // what is missing is reported by the invariant below
    await clean.stop();

    const invariants = await system.withSystem(async (pay) => [
      ...(await checkInvariants({
        system: pay,
        claims: load!.claims,
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
            : `${inDoubt.length} issuer operation(s) still pending: ${inDoubt.slice(0, 5).join("; ")}`,
      },
    ]);
    return {
      options,
      points,
      invariants,
      payments: load.claims.size,
      rounds: load.tally.rounds,
      refusals: load.tally.refusals,
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    await system.close();
  }
}

export function crashReport(run: CrashRun): string {
  const crashes = [...run.points.values()].reduce((n, t) => n + t.hit, 0);
  const width = Math.max(...ARMING_ORDER.map((p) => p.length));
  const lines = [
    `Crash drill (${run.options.databaseUrl ? "PostgreSQL" : "PGlite"}): ${crashes} crashes in ${run.options.crashes} lives, ${run.rounds} rounds, ${run.payments} payments acknowledged, ${run.seconds.toFixed(1)} s`,
    "",
    `${"fault point".padEnd(width)}  armed  hit`,
    ...[...run.points].map(
      ([point, t]) =>
        `${point.padEnd(width)}  ${String(t.armed).padStart(5)}  ${String(t.hit).padStart(3)}${t.hit === 0 ? "  MISSED" : ""}`,
    ),
    "",
    "Invariants:",
    ...run.invariants.map((i) => `  ${i.ok ? "ok  " : "FAIL"} ${i.name}: ${i.detail}`),
  ];
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
  summary: "kill the pay server at every fault point under load, restart it, and prove nothing was lost or doubled",
  usage: USAGE,
  async run(args, progress): Promise<DrillResult> {
    const options = parseCrashOptions(args);
    const run = await runCrashDrill(options, progress);
    const missed = [...run.points.values()].some((t) => t.hit === 0);
    const command = [
      "npm run drill -- crash",
      `--crashes ${options.crashes}`,
      `--points ${options.points.join(",")}`,
      ...(options.databaseUrl ? [`--database-url ${redact(options.databaseUrl)}`] : []),
    ].join(" ");
    return { ok: !missed && run.invariants.every((i) => i.ok), report: crashReport(run), command };
  },
};

/** A database URL without its password, for the report. */
function redact(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = "***";
  return u.toString();
}
