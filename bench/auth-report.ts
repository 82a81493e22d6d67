/**
 * The report of `npm run bench -- auth`: the load generators' merged results (bench/wallet-load.ts) of each phase,
 * read against the raw cost of the primitives (bench/primitives.ts), and printed for a human or as JSON.
 */
import type { PinKeyStretching } from "@mpay/wallet";
import type { AuthMode } from "./auth-loadgen.ts";
import type { RequestKind } from "./auth-wallet.ts";
import type { CpuUsage } from "./cpu-usage.ts";
import type { PrimitiveCosts } from "./primitives.ts";
import type { TraceSnapshot } from "./sql-trace.ts";
import { summarize, type Summary } from "./stats.ts";
import type { ErrorSample, WalletLoadResult } from "./wallet-load.ts";

/** A timed phase: the `auth` scenario's logins and approvals, the `pay` scenario's payments. */
export type PhaseMode = AuthMode | "payments";

export interface PhaseReport {
  mode: PhaseMode;
  /** Completed operations per second over the timed run. */
  rate: number;
  ops: number;
  failedOps: number;
  elapsedSeconds: number;
  perSecond: number[];
  latencyMs: { op: Summary; wallet: Summary; requests: Partial<Record<RequestKind, Summary>> };
  statuses: WalletLoadResult["statuses"];
  non2xx: number;
  /** Failed answers in this phase's warm-up and in runs repeated because the payments ran out. */
  warmupNon2xx: number;
  errorSamples: ErrorSample[];
  exhausted: boolean;
  cpu: CpuUsage & { perOpMs: { servers: number; issuer: number; postgres: number; loadgens: number } };
  /**
   * How busy each pay-server process was: its CPU time over the run's length (1 = one core all the time). Near 1,
   * the process's one event loop is what limits the rate, whatever the machine has left.
   */
  serverCoreShare: number;
  /** Per pay-server process, the share of the run its event loop was busy (not waiting for I/O). */
  eventLoopBusy: number[];
  /** The servers' cryptography per operation (the pay server's, and the issuer host's if any), from the primitives (µs of one core). */
  cryptoMicroseconds: number;
  /** The rate if every core of the machine did nothing but that cryptography. */
  cryptoCeiling: number;
  /** rate ÷ cryptoCeiling. */
  ratio: number;
  /** The share of the servers' CPU time (pay servers and issuer host) that the cryptography accounts for. */
  cryptoShareOfServerCpu: number;
  sqlTrace: (TraceSnapshot & { perOp: number }) | null;
}

export interface AuthReport {
  scenario: "auth";
  postgresVersion: string;
  cpus: number;
  node: string;
  processes: number;
  dbPoolPerProcess: number;
  clients: number;
  loadgens: number;
  payers: number;
  seconds: number;
  warmupSeconds: number;
  keyStretching: PinKeyStretching;
  primitives: PrimitiveCosts;
  logins: PhaseReport;
  approvals: PhaseReport;
  checks: {
    approvalsInDatabase: number;
    /** Approvals answered 200 over the whole run (warm-up and repeated runs included). */
    approvalsAnswered: number;
    /** Payments that left requires_approval: none may, until an issuer decides. */
    paymentsMovedOn: number;
    pinsWithTriesCounted: number;
    pinsLocked: number;
    loginsOutstanding: number;
  };
  setupSeconds: number;
  cpuProfileDir: string | null;
}

export interface PhaseInput {
  mode: PhaseMode;
  result: WalletLoadResult;
  warmupNon2xx: number;
  cpu: CpuUsage;
  eventLoops: number[];
  cpus: number;
  processes: number;
  cryptoMicroseconds: number;
  sqlTrace: TraceSnapshot | null;
}

export function phaseReport({
  mode,
  result,
  warmupNon2xx,
  cpu,
  eventLoops,
  cpus,
  processes,
  cryptoMicroseconds,
  sqlTrace,
}: PhaseInput): PhaseReport {
  const rate = result.elapsedSeconds > 0 ? result.ops / result.elapsedSeconds : 0;
  const perOp = (seconds: number) => (result.ops ? (1000 * seconds) / result.ops : 0);
  const cryptoCeiling = (cpus * 1e6) / cryptoMicroseconds;
  const requests: PhaseReport["latencyMs"]["requests"] = {};
  for (const [kind, ms] of Object.entries(result.requestMs) as Array<[RequestKind, number[]]>)
    requests[kind] = summarize(ms);
  return {
    mode,
    rate,
    ops: result.ops,
    failedOps: result.failedOps,
    elapsedSeconds: result.elapsedSeconds,
    perSecond: result.perSecond,
    latencyMs: { op: summarize(result.opMs), wallet: summarize(result.walletMs), requests },
    statuses: result.statuses,
    non2xx: result.non2xx,
    warmupNon2xx,
    errorSamples: result.errorSamples,
    exhausted: result.exhausted,
    cpu: {
      ...cpu,
      perOpMs: {
        servers: perOp(cpu.serversSeconds),
        issuer: perOp(cpu.issuerSeconds),
        postgres: perOp(cpu.postgresSeconds),
        loadgens: perOp(cpu.loadgenSeconds),
      },
    },
    eventLoopBusy: eventLoops,
    serverCoreShare: result.elapsedSeconds > 0 ? cpu.serversSeconds / (result.elapsedSeconds * processes) : 0,
    cryptoMicroseconds,
    cryptoCeiling,
    ratio: rate / cryptoCeiling,
    cryptoShareOfServerCpu:
      cpu.serversSeconds + cpu.issuerSeconds > 0
        ? (result.ops * cryptoMicroseconds) / 1e6 / (cpu.serversSeconds + cpu.issuerSeconds)
        : 0,
    sqlTrace: sqlTrace ? { ...sqlTrace, perOp: result.ops ? sqlTrace.roundTrips / result.ops : 0 } : null,
  };
}

export const ms = (v: number) => (Number.isFinite(v) ? `${v.toFixed(1)} ms` : "–");
export const int = (v: number) => Math.round(v).toLocaleString("en-US").replaceAll(",", " ");
export const us = (v: number) => `${v < 10 ? v.toFixed(1) : Math.round(v)} µs`;

export function stretchingText(k: PinKeyStretching): string {
  if (typeof k === "string") return k;
  const c = k["argon2id-custom"];
  return `Argon2id t=${c.iterations}, m=${c.memory} KiB, p=${c.parallelism}`;
}

function formatPhase(r: PhaseReport, cpus: number, opaqueLogin: number): string[] {
  const unit = r.mode === "logins" ? "login" : "approval";
  const kinds: RequestKind[] =
    r.mode === "logins" ? ["login-start", "login-finish"] : ["challenge", "login-start", "approve"];
  const requestLine = kinds
    .map((k) => {
      const s = r.latencyMs.requests[k];
      return s ? `${k} ${ms(s.p50)} / ${ms(s.p99)}` : `${k} –`;
    })
    .join(" · ");
  const crypto =
    r.mode === "logins"
      ? `one OPAQUE server login, ${us(r.cryptoMicroseconds)}`
      : `one OPAQUE server login + one jose ES256 verify, ${us(r.cryptoMicroseconds)}`;
  const lines = [
    r.mode === "logins"
      ? "  logins           PIN login for pin-check: start → wallet's OPAQUE finish → POST /v1/payer/pin/login/finish"
      : "  approvals        challenge → signTerms → PIN login for approval:<id> → MAC → approve (each includes one OPAQUE login)",
    `    ${`${unit}s/s`.padEnd(15)}${r.rate.toFixed(1)}   (${r.ops} in ${r.elapsedSeconds.toFixed(2)} s${r.failedOps ? `, ${r.failedOps} failed` : ""})`,
    `    per second     ${r.perSecond.join(" ")}`,
    `    latency        p50 ${ms(r.latencyMs.op.p50)} · p99 ${ms(r.latencyMs.op.p99)} · max ${ms(r.latencyMs.op.max)}   (of which in the wallet: p50 ${ms(r.latencyMs.wallet.p50)})`,
    `    requests       p50 / p99: ${requestLine}`,
    `    vs. crypto     ${r.rate.toFixed(0)} ÷ ${int(r.cryptoCeiling)} = ${r.ratio.toFixed(3)}   (ceiling: ${cpus} cores × 1 ÷ ${crypto}) · that crypto is ${(100 * r.cryptoShareOfServerCpu).toFixed(0)} % of the pay servers' CPU`,
    `    CPU            pay servers ${r.cpu.serversSeconds.toFixed(1)} s (each process ${(100 * r.serverCoreShare).toFixed(0)} % of a core, event loop busy ${r.eventLoopBusy.map((b) => `${(100 * b).toFixed(0)} %`).join(", ")}) · PostgreSQL ${r.cpu.postgresSeconds.toFixed(1)} s · load generators ${r.cpu.loadgenSeconds.toFixed(1)} s · bench ${r.cpu.benchSeconds.toFixed(1)} s · interrupts ${r.cpu.irqSeconds.toFixed(1)} s · other processes ${r.cpu.otherSeconds.toFixed(1)} s · steal ${r.cpu.stealSeconds.toFixed(1)} s · machine ${(100 * r.cpu.machineBusyShare).toFixed(0)} % busy`,
    `    ${`CPU / ${unit}`.padEnd(15)}pay servers ${r.cpu.perOpMs.servers.toFixed(2)} ms (OPAQUE alone ${(opaqueLogin / 1000).toFixed(2)} ms) · PostgreSQL ${r.cpu.perOpMs.postgres.toFixed(2)} ms · load generators ${r.cpu.perOpMs.loadgens.toFixed(2)} ms`,
    `    non-2xx        ${r.non2xx}${r.warmupNon2xx ? ` (and ${r.warmupNon2xx} in the warm-up or a repeated run)` : ""}`,
  ];
  if (r.non2xx > 0) {
    lines.push(`      statuses: ${JSON.stringify(r.statuses)}`);
    for (const e of r.errorSamples) lines.push(`      ${e.kind} ${e.status || "transport error"}: ${e.body}`);
  }
  if (r.exhausted)
    lines.push("    note           the payments ran out before the deadline: the rate is over the time it ran");
  if (r.sqlTrace) {
    const t = r.sqlTrace;
    lines.push(
      `    SQL trace      ${t.roundTrips} round trips = ${t.perOp.toFixed(2)} per ${unit} (the proxy costs CPU: the rate above is not comparable)`,
      "      count   avg ms  statement",
    );
    for (const s of t.statements.slice(0, 15))
      lines.push(
        `      ${String(s.count).padStart(6)}  ${(s.totalMs / s.count).toFixed(2).padStart(6)}  ${s.sql.slice(0, 110)}`,
      );
  }
  return lines;
}

/** The primitives' lines of a report: ECDSA verify and the OPAQUE server's login, per core. */
export function formatPrimitives(p: PrimitiveCosts): string[] {
  return [
    `  primitives       one core (CPU time of one thread of the bench process, ${p.secondsEach} s each, nothing else running):`,
    `    ECDSA P-256    verify: node:crypto ${int(p.ecdsaVerifyNode.perCoreSecond)}/s (${us(p.ecdsaVerifyNode.cpuMicroseconds)}) · jose compactVerify ${int(p.ecdsaVerifyJose.perCoreSecond)}/s (${us(p.ecdsaVerifyJose.cpuMicroseconds)})`,
    `    OPAQUE server  login: ${int(p.opaqueLogin.perCoreSecond)}/s (${us(p.opaqueLogin.cpuMicroseconds)}) = startLogin ${us(p.opaqueStartLogin.cpuMicroseconds)} + finishLogin ${us(p.opaqueFinishLogin.cpuMicroseconds)}`,
  ];
}

export function formatAuthReport(r: AuthReport): string {
  const p = r.primitives;
  const c = r.checks;
  const lines = [
    "MPay bench · auth: payers' PIN logins (OPAQUE) and payment approvals over HTTP on PostgreSQL",
    `  machine          ${r.cpus} CPU cores · Node ${r.node} · PostgreSQL ${r.postgresVersion}`,
    `  setup            ${r.processes} pay-server process(es) × ${r.dbPoolPerProcess} DB connections · ${r.clients} clients in ${r.loadgens} load generator process(es) · ${r.payers} payers · ${r.seconds} s timed per phase (after ${r.warmupSeconds} s warm-up)`,
    `  wallets          OPAQUE client key stretching ${stretchingText(r.keyStretching)} (runs on the phone; the server's work does not depend on it)`,
    ...formatPrimitives(p),
    ...formatPhase(r.logins, r.cpus, p.opaqueLogin.cpuMicroseconds),
    ...formatPhase(r.approvals, r.cpus, p.opaqueLogin.cpuMicroseconds),
    `  checks           ${c.approvalsInDatabase} approvals in the database, ${c.approvalsAnswered} answered 200${c.approvalsInDatabase === c.approvalsAnswered ? "" : ": MISMATCH"} · ${c.paymentsMovedOn} payments left requires_approval · PINs: ${c.pinsWithTriesCounted} with tries counted, ${c.pinsLocked} locked · ${c.loginsOutstanding} logins outstanding`,
    `  setup time       ${r.setupSeconds.toFixed(1)} s (not timed)`,
  ];
  if (r.cpuProfileDir)
    lines.push(
      `  CPU profiles     ${r.cpuProfileDir}: pay-<pid>-1 is the logins' run, pay-<pid>-2 the approvals' (more if a run was repeated)`,
    );
  return lines.join("\n") + "\n";
}
