/**
 * CPU time spent during a run, by component, read from Linux's /proc (elsewhere: not measured). Tells where the
 * machine's cores went: the pay servers, the issuer host (`pay`), PostgreSQL (the benchmark's backends and the
 * server's background processes: WAL writer, checkpointer, …), the load generator, and everything else on the
 * machine.
 */
import { readdir, readFile } from "node:fs/promises";

/** Clock ticks per second of /proc's utime/stime; 100 on every mainstream Linux build. */
const TICKS_PER_SECOND = 100;

async function processTicks(pid: number): Promise<number> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    // Fields after the parenthesised command name (which may hold spaces): state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0; // gone, or no /proc
  }
}

async function allPostgresPids(): Promise<number[]> {
  let entries: string[];
  try {
    entries = await readdir("/proc");
  } catch {
    return [];
  }
  const pids: number[] = [];
  await Promise.all(
    entries
      .filter((e) => /^[0-9]+$/.test(e))
      .map(async (e) => {
        try {
          if ((await readFile(`/proc/${e}/comm`, "utf8")).trim() === "postgres") pids.push(Number(e));
        } catch {
          // exited meanwhile
        }
      }),
  );
  return pids;
}

/** Ticks of the whole machine (all cores): busy, of which interrupts (loopback TCP runs in softirq), and steal. */
async function machineTicks(): Promise<{ busy: number; irq: number; steal: number; total: number }> {
  try {
    const line = (await readFile("/proc/stat", "utf8")).split("\n")[0] ?? "";
    // cpu  user nice system idle iowait irq softirq steal guest guest_nice (guest time is inside user already)
    const v = line.trim().split(/\s+/).slice(1, 9).map(Number);
    const total = v.reduce((a, b) => a + b, 0);
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    const steal = v[7] ?? 0;
    return { busy: total - idle - steal, irq: (v[5] ?? 0) + (v[6] ?? 0), steal, total };
  } catch {
    return { busy: 0, irq: 0, steal: 0, total: 0 };
  }
}

export interface CpuSnapshot {
  servers: number;
  issuer: number;
  /** Ticks of each PostgreSQL process by pid. */
  postgres: Map<number, number>;
  loadgen: number;
  bench: number;
  machineBusy: number;
  machineIrq: number;
  machineSteal: number;
  machineTotal: number;
}

export interface CpuUsage {
  /** CPU seconds in the interval, by component. */
  serversSeconds: number;
  /** The issuer host process (0 when the scenario runs none). */
  issuerSeconds: number;
  postgresSeconds: number;
  loadgenSeconds: number;
  benchSeconds: number;
  /** Interrupt handling (irq + softirq: loopback TCP is processed there), not charged to any process. */
  irqSeconds: number;
  /** Busy time of every other process on the machine (other people's work included). */
  otherSeconds: number;
  /** Time the hypervisor gave to other guests. */
  stealSeconds: number;
  /** Busy share of all cores over the interval (1 = every core busy all the time). */
  machineBusyShare: number;
}

/**
 * PostgreSQL: every process named `postgres` on this machine except `excludePostgres` (other databases' sessions
 * on a shared server, which are someone else's work).
 */
export async function cpuSnapshot(
  serverPids: number[],
  loadgenPids: ReadonlyArray<number | undefined>,
  excludePostgres: ReadonlySet<number> = new Set(),
  issuerPids: ReadonlyArray<number | undefined> = [],
): Promise<CpuSnapshot> {
  const ticksOf = (pids: ReadonlyArray<number | undefined>) =>
    Promise.all(pids.filter((pid): pid is number => pid !== undefined).map(processTicks)).then((t) =>
      t.reduce((a, b) => a + b, 0),
    );
  const [servers, issuer, pg, loadgen, bench, machine] = await Promise.all([
    ticksOf(serverPids),
    ticksOf(issuerPids),
    allPostgresPids().then(async (all) => {
      const pids = all.filter((pid) => !excludePostgres.has(pid));
      return new Map(await Promise.all(pids.map(async (pid) => [pid, await processTicks(pid)] as const)));
    }),
    ticksOf(loadgenPids),
    processTicks(process.pid),
    machineTicks(),
  ]);
  return {
    servers,
    issuer,
    postgres: pg,
    loadgen,
    bench,
    machineBusy: machine.busy,
    machineIrq: machine.irq,
    machineSteal: machine.steal,
    machineTotal: machine.total,
  };
}

/**
 * The difference of two snapshots. A PostgreSQL backend that exits in between takes its ticks with it (not
 * counted); one that starts in between counts from zero.
 */
export function cpuBetween(a: CpuSnapshot, b: CpuSnapshot): CpuUsage {
  const s = (ticks: number) => Math.max(0, ticks) / TICKS_PER_SECOND;
  const serversSeconds = s(b.servers - a.servers);
  const issuerSeconds = s(b.issuer - a.issuer);
  let pgTicks = 0;
  for (const [pid, ticks] of b.postgres) pgTicks += ticks - (a.postgres.get(pid) ?? 0);
  const postgresSeconds = s(pgTicks);
  const loadgenSeconds = s(b.loadgen - a.loadgen);
  const benchSeconds = s(b.bench - a.bench);
  const busy = s(b.machineBusy - a.machineBusy);
  const irq = s(b.machineIrq - a.machineIrq);
  const total = s(b.machineTotal - a.machineTotal);
  return {
    serversSeconds,
    issuerSeconds,
    postgresSeconds,
    loadgenSeconds,
    benchSeconds,
    irqSeconds: irq,
    otherSeconds: Math.max(
      0,
      busy - irq - serversSeconds - issuerSeconds - postgresSeconds - loadgenSeconds - benchSeconds,
    ),
    stealSeconds: s(b.machineSteal - a.machineSteal),
    machineBusyShare: total > 0 ? busy / total : 0,
  };
}
