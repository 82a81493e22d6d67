/**
 * The report of `npm run bench -- pay`: the payments' timed run as a phase (bench/auth-report.ts), the time of each
 * step of the path and its share, device side and server side, the cryptography's ceiling (pay server and issuer
 * host), and the checks made in both databases afterwards; printed for a human or as JSON.
 */
import type { PinKeyStretching } from "@mpay/wallet";
import type { DeviceStep, RequestKind } from "./auth-wallet.ts";
import { formatPrimitives, int, ms, stretchingText, us, type PhaseReport } from "./auth-report.ts";
import type { PayPrimitiveCosts } from "./pay-primitives.ts";
import type { DevicePrimitiveCosts } from "./device-primitives.ts";
import type { PrimitiveCosts } from "./primitives.ts";
import type { TraceSnapshot } from "./sql-trace.ts";
import { summarize, type Summary } from "./stats.ts";
import { formatCapacity, formatSplit, PASSKEY_CAPACITY_TARGET, type Capacity } from "./capacity.ts";
import { renderHtmlReport } from "./html-report.ts";
import { formatOpenLoop, type OpenLoopReport } from "./open-loop-report.ts";
import { formatExplained, type ExplainedStatement } from "./explain.ts";
import type { PgbenchResult } from "./postgres.ts";
import { capacityHeadline, capacityReferences, splitParts } from "./report-files.ts";
import type { SecondLatency } from "./timeline.ts";
import type { WalletLoadResult } from "./wallet-load.ts";

/** The steps of one payment, in order. */
export const PAY_STEPS = [
  "challenge",
  "device-prepare",
  "login-start",
  "device-opaque-finish",
  "device-passkey",
  "approve",
  "device-jwe",
  "authorize",
] as const;
export type PayStep = (typeof PAY_STEPS)[number];

/** The steps each way of approving takes: a passkey needs no PIN login (the assertion goes with the approval). */
const STEPS_OF: Record<ApprovalMethod, readonly PayStep[]> = {
  pin: PAY_STEPS.filter((s) => s !== "device-passkey"),
  passkey: PAY_STEPS.filter((s) => s !== "login-start" && s !== "device-opaque-finish"),
};

/** How the payers of a run approve. */
export type ApprovalMethod = "pin" | "passkey";

const STEP_LABELS: Record<PayStep, string> = {
  challenge: "challenge",
  "device-prepare": "sign terms (PIN: OPAQUE start)",
  "login-start": "PIN login start (OPAQUE)",
  "device-opaque-finish": "OPAQUE finish, MAC, one-time key",
  "device-passkey": "passkey assertion, one-time key",
  approve: "approve + release",
  "device-jwe": "open release, combine, JWE",
  authorize: "authorize at the issuer",
};

/** The pay server's route of each request step (as bench/http-probe.ts names routes). */
const PAY_ROUTES: Record<RequestKind, string> = {
  challenge: "POST /v1/payer/payments/:id/approval-challenges",
  "login-start": "POST /v1/payer/pin/login",
  "login-finish": "POST /v1/payer/pin/login/finish",
  approve: "POST /v1/payer/approval-challenges/:id/approve",
  authorize: "POST /v1/payer/approvals/:id/authorize",
};
/** The issuer host's route the authorization step reaches (one per issuer). */
const ISSUER_ROUTE = /^POST \/issuers\/[^/]+\/authorizations$/;

const isDeviceStep = (step: PayStep): step is DeviceStep => step.startsWith("device-");

export interface StepReport {
  step: PayStep;
  /** `device`: the wallet's own work (the phone); `server`: a request, from sending it to reading the answer. */
  side: "device" | "server";
  /** As the device saw it. */
  latencyMs: Summary;
  /** A request's time inside the pay server (Node's request start to its answer's finish), when measured. */
  inPayServerMs: Summary | null;
  /** The authorization's time inside the issuer host, when measured. */
  atIssuerMs: Summary | null;
  /** Of the whole path's time, summed over the completed payments. */
  share: number;
}

/**
 * The time of each step and its share of the path; the rest (the loop's own bookkeeping) is `unaccountedShare`.
 * With the servers' own request times (`serverHttp`, `issuerHttp`), each request's time inside them too.
 */
export function stepReports(
  result: Pick<WalletLoadResult, "opMs" | "requestMs" | "deviceMs">,
  serverHttp: Record<string, number[]> = {},
  issuerHttp: Record<string, number[]> | null = null,
  method: ApprovalMethod = "pin",
): { steps: StepReport[]; unaccountedShare: number } {
  const total = result.opMs.reduce((a, b) => a + b, 0);
  const issuerAuthorizations = issuerHttp
    ? Object.entries(issuerHttp).flatMap(([route, ms]) => (ISSUER_ROUTE.test(route) ? ms : []))
    : [];
  let accounted = 0;
  const steps = STEPS_OF[method].map((step): StepReport => {
    const device = isDeviceStep(step);
    const samples = (device ? result.deviceMs[step] : result.requestMs[step as RequestKind]) ?? [];
    const sum = samples.reduce((a, b) => a + b, 0);
    accounted += sum;
    const inPayServer = device ? undefined : serverHttp[PAY_ROUTES[step as RequestKind]];
    return {
      step,
      side: device ? "device" : "server",
      latencyMs: summarize(samples),
      inPayServerMs: inPayServer ? summarize(inPayServer) : null,
      atIssuerMs: step === "authorize" && issuerAuthorizations.length > 0 ? summarize(issuerAuthorizations) : null,
      share: total > 0 ? sum / total : 0,
    };
  });
  return { steps, unaccountedShare: total > 0 ? Math.max(0, 1 - accounted / total) : 0 };
}

/** The servers' cryptography per payment, from the primitives (µs of one core). */
export interface PayCrypto {
  /**
   * PIN: OPAQUE server login + the device's ES256 signature over the terms + the release's JWE + the PIN
   * statement's ES256 signature. Passkey: the terms' signature + the assertion's ES256 verify + the release's JWE.
   * All on node:crypto, as the servers do them (@mpay/crypto/node; passkeys: service-kit's webauthn-assertion.ts).
   */
  payServerMicroseconds: number;
  /**
   * The payment JWE decrypted and the device's JWS verified + the PIN statement's ES256 signature verified, or the
   * passkey assertion's ES256 verify (node:crypto).
   */
  issuerMicroseconds: number;
}

export function payCrypto(p: PrimitiveCosts, j: PayPrimitiveCosts, method: ApprovalMethod = "pin"): PayCrypto {
  if (method === "passkey")
    return {
      payServerMicroseconds: 2 * p.ecdsaVerifyNode.cpuMicroseconds + j.jweEncrypt.cpuMicroseconds,
      issuerMicroseconds: j.issuerDecryptVerify.cpuMicroseconds + p.ecdsaVerifyNode.cpuMicroseconds,
    };
  return {
    payServerMicroseconds:
      p.opaqueLogin.cpuMicroseconds +
      p.ecdsaVerifyNode.cpuMicroseconds +
      j.jweEncrypt.cpuMicroseconds +
      j.es256Sign.cpuMicroseconds,
    issuerMicroseconds: j.issuerDecryptVerify.cpuMicroseconds + p.ecdsaVerifyNode.cpuMicroseconds,
  };
}

export interface PayChecks {
  /** Payments answered `authorized` over the whole run (warm-up and repeated runs included). */
  authorizedAnswered: number;
  /** Of those, `authorized` in the pay server's database. */
  authorizedInPayDb: number;
  /** Payments `authorized` in the pay server's database that no answer said so (a lost answer). */
  authorizedUnanswered: number;
  /** Payments `declined` in the pay server's database. */
  declinedInPayDb: number;
  /** MPay's messages to the payers' messenger accounts (a receipt per approved payment): stored by the messenger, or not. */
  announcementsDelivered: number;
  announcementsUndelivered: number;
  /** Authorization requests to an issuer whose outcome the pay server has not recorded. */
  issuerOperationsPending: number;
  /** Of the payments answered `authorized`, those the issuers' books hold as approved. */
  approvedAtIssuer: number;
  declinedAtIssuer: number;
  /** Every card of every issuer: credit limit − open-to-buy = holds + captured − refunded. */
  issuerBooksBalanced: boolean;
  issuerImbalances: number;
  ledger: { ok: boolean; transactions: number; entries: number; problems: number };
}

export function checksPass(c: PayChecks): boolean {
  return (
    c.authorizedInPayDb === c.authorizedAnswered &&
    c.approvedAtIssuer === c.authorizedAnswered &&
    c.authorizedUnanswered === 0 &&
    c.declinedInPayDb === 0 &&
    c.declinedAtIssuer === 0 &&
    c.issuerOperationsPending === 0 &&
    c.issuerBooksBalanced &&
    c.ledger.ok
  );
}

export interface PayReport {
  scenario: "pay";
  postgresVersion: string;
  cpus: number;
  node: string;
  processes: number;
  dbPoolPerProcess: number;
  issuers: string[];
  issuerDbPoolPerIssuer: number;
  cards: number;
  clients: number;
  loadgens: number;
  payers: number;
  /** Payers seeded in bulk besides (--enrolled): rows that give the tables their size, not timed. */
  enrolled: number;
  seconds: number;
  warmupSeconds: number;
  /** How the payers approved: the PIN, or a passkey (a WebAuthn assertion over the terms' hash). */
  method: ApprovalMethod;
  keyStretching: PinKeyStretching;
  primitives: PrimitiveCosts;
  payPrimitives: PayPrimitiveCosts;
  /** One payment's device cryptography (OPAQUE aside) on one core: node:crypto as the devices run it, and the SDK's. */
  devicePrimitives: DevicePrimitiveCosts;
  crypto: PayCrypto;
  /** The same run's pgbench baseline (null with --skip-pgbench). */
  pgbench: PgbenchResult | null;
  /**
   * The headline (issue 11): the servers' capacity, cores ÷ (pay + issuer + PostgreSQL CPU per approved payment),
   * beside the measured rate, each ÷ pgbench TPS against the targets of the run's method; and the CPU split by process.
   */
  capacity: Capacity;
  /** The whole path's p50 / p99 for the payments completed in each second of the timed run. */
  latencyPerSecond: SecondLatency[];
  payments: PhaseReport;
  steps: StepReport[];
  unaccountedShare: number;
  /** Shares of the path's time on the device and in requests. */
  deviceShare: number;
  serverShare: number;
  /** The issuer host's CPU time over the run's length (1 = one core), and how busy its event loop was. */
  issuerCoreShare: number;
  issuerEventLoopBusy: number | null;
  /** With --trace-sql: the issuer host's round trips to its database (all issuers), as the pay server's in `payments`. */
  issuerSqlTrace: (TraceSnapshot & { perOp: number }) | null;
  /** Payments of the timed run answered but not authorized, by decline code; and of the warm-up and repeated runs. */
  declines: Record<string, number>;
  warmupDeclines: Record<string, number>;
  /** With --rate: the open-loop run at a fixed arrival rate after the closed loop. */
  openLoop: OpenLoopReport | null;
  /** With --trace-sql: EXPLAIN (generic plan) of the hot statements of each database (bench/explain.ts). */
  explained: { pay: ExplainedStatement[]; issuer: ExplainedStatement[] } | null;
  checks: PayChecks;
  setupSeconds: number;
  cpuProfileDir: string | null;
  /** The issuer host's process id (its CPU profile is `pay-<pid>-<n>` like the pay servers'). */
  issuerPid: number | null;
}

/** What the synthetic devices run (bench/device-crypto.ts, bench/auth-wallet.ts), for the report. */
export const DEVICE_CODE =
  "node:crypto for every signature and derivation on the device (ES256 with dsaEncoding ieee-p1363, ECDH P-256, Concat KDF, AES key wrap, AES-GCM, HKDF, HMAC), keys parsed once as KeyObjects; OPAQUE's client (@serenity-kit/opaque) at its cheapest key stretching";

/** What the run's approval is, and the target its capacity is read against. */
export function methodNote(method: ApprovalMethod): string {
  return method === "passkey"
    ? `passkey path: each payer approves with a passkey (a WebAuthn authenticator simulated with node:crypto: ES256, user verified, its counter moving forward), registered at setup and bound at the issuer with the card; capacity target ≥ ${PASSKEY_CAPACITY_TARGET.toFixed(2)} × pgbench`
    : `PIN path: each payer approves with the PIN (OPAQUE login); the passkey path is \`--method passkey\` (capacity target ≥ ${PASSKEY_CAPACITY_TARGET.toFixed(2)} × pgbench)`;
}

/** One payment's requests and device work, as the report names them. */
const pathOf = (method: ApprovalMethod) =>
  method === "passkey"
    ? "challenge → sign terms, passkey assertion over the terms' hash → approve (card released) → device opens, combines, signs + encrypts → authorize at the issuer"
    : "challenge → PIN login → approve (card released) → device opens, combines, signs + encrypts → authorize at the issuer";

const LOADGEN_LABEL = "load generators (the devices)";

const percent = (v: number) => `${(100 * v).toFixed(0)} %`;
const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

export function formatPayReport(r: PayReport): string {
  const p = r.payments;
  const j = r.payPrimitives;
  const c = r.checks;
  const lines = [
    "MPay bench · pay: the whole approval path, from the challenge to the issuer's decision, on PostgreSQL",
    `  machine          ${r.cpus} CPU cores · Node ${r.node} · PostgreSQL ${r.postgresVersion}`,
    `  setup            ${r.processes} pay-server process(es) × ${r.dbPoolPerProcess} DB connections · issuer host (1 process): ${r.issuers.join(", ")} × ${r.issuerDbPoolPerIssuer} DB connections, ${r.cards} test cards · ${r.clients} clients in ${r.loadgens} load generator process(es) · ${r.payers} payers (a device, a PIN${r.method === "passkey" ? ", a passkey" : ""} and a card enrolled at the issuer each)${r.enrolled ? ` + ${r.enrolled} seeded in bulk (not timed)` : ""} · ${r.seconds} s timed (after ${r.warmupSeconds} s warm-up)`,
    ...formatCapacity(r.capacity, "approved payments", false),
    `  pgbench          ${r.pgbench ? `${r.pgbench.tps.toFixed(1)} TPS in the same run (TPC-B-like, scale ${r.pgbench.scale}, ${r.pgbench.clients} clients, -M prepared, ${r.pgbench.seconds} s)` : "skipped (no ratios)"}`,
    `  CPU split        ${formatSplit(r.capacity, "devices")}`,
    `  devices          ${r.capacity.loadgenMsPerPayment.toFixed(2)} ms of CPU per approved payment (HTTP included), with the cheapest correct code: ${DEVICE_CODE}, ${stretchingText(r.keyStretching)} (runs on the phone; the server never learns it and does the same work with any)`,
    `                   a device's cryptography per payment on one core, OPAQUE aside: ${us(r.devicePrimitives.nodeCrypto.cpuMicroseconds)} with node:crypto, ${us(r.devicePrimitives.sdk.cpuMicroseconds)} with the wallet SDK's jose/WebCrypto (${(r.devicePrimitives.sdk.cpuMicroseconds / r.devicePrimitives.nodeCrypto.cpuMicroseconds).toFixed(1)}× as much)`,
    `  method           ${methodNote(r.method)}`,
    ...formatPrimitives(r.primitives),
    `    JOSE           the servers' (node:crypto, @mpay/crypto/node): release JWE encrypt ${int(j.jweEncrypt.perCoreSecond)}/s (${us(j.jweEncrypt.cpuMicroseconds)}) · issuer's decrypt + verify ${int(j.issuerDecryptVerify.perCoreSecond)}/s (${us(j.issuerDecryptVerify.cpuMicroseconds)}) · ES256 sign ${int(j.es256Sign.perCoreSecond)}/s (${us(j.es256Sign.cpuMicroseconds)}) · the wallet's open of the release (jose): ${int(j.jweDecrypt.perCoreSecond)}/s (${us(j.jweDecrypt.cpuMicroseconds)})`,
    `  payments         ${pathOf(r.method)}`,
    `    approved/s     ${p.rate.toFixed(1)}   (${p.ops} in ${p.elapsedSeconds.toFixed(2)} s${p.failedOps ? `, ${p.failedOps} failed` : ""})`,
    `    per second     ${p.perSecond.join(" ")}`,
    `    latency        p50 ${ms(p.latencyMs.op.p50)} · p99 ${ms(p.latencyMs.op.p99)} · max ${ms(p.latencyMs.op.max)}   (of which on the device: p50 ${ms(p.latencyMs.wallet.p50)})`,
    "    steps          p50 / p99 as the device saw them, share of the path; and the same request's time inside the pay server and the issuer host",
  ];
  const pair = (m: Summary | null) => (m ? `${ms(m.p50)} / ${ms(m.p99)}` : "");
  for (const s of r.steps) {
    const inside = [
      s.inPayServerMs ? `pay server ${pair(s.inPayServerMs)}` : "",
      s.atIssuerMs ? `issuer ${pair(s.atIssuerMs)}` : "",
    ]
      .filter(Boolean)
      .join(" · ");
    lines.push(
      `      ${STEP_LABELS[s.step].padEnd(33)}${s.side.padEnd(8)}${pair(s.latencyMs).padEnd(22)}${percent(s.share).padStart(5)}${inside ? `   ${inside}` : ""}`,
    );
  }
  lines.push(
    `      device side ${percent(r.deviceShare)} · requests ${percent(r.serverShare)}${r.unaccountedShare >= 0.005 ? ` · unaccounted ${percent(r.unaccountedShare)}` : ""}`,
    `    vs. crypto     ${p.rate.toFixed(0)} ÷ ${int(p.cryptoCeiling)} = ${p.ratio.toFixed(3)}   (ceiling: ${r.cpus} cores ÷ the servers' crypto per payment, ${us(p.cryptoMicroseconds)} = pay server ${us(r.crypto.payServerMicroseconds)} (${r.method === "passkey" ? "ES256 verify of the terms and of the assertion, release JWE" : "OPAQUE login, ES256 verify, release JWE, PIN statement"}) + issuer ${us(r.crypto.issuerMicroseconds)} (decrypt + verify, ${r.method === "passkey" ? "the assertion's" : "PIN statement"} verify)) · that crypto is ${percent(p.cryptoShareOfServerCpu)} of the servers' CPU`,
    `    CPU            pay servers ${p.cpu.serversSeconds.toFixed(1)} s (each process ${percent(p.serverCoreShare)} of a core, event loop busy ${p.eventLoopBusy.map(percent).join(", ")}) · issuer host ${p.cpu.issuerSeconds.toFixed(1)} s (${percent(r.issuerCoreShare)} of a core${r.issuerEventLoopBusy === null ? "" : `, event loop busy ${percent(r.issuerEventLoopBusy)}`}) · PostgreSQL ${p.cpu.postgresSeconds.toFixed(1)} s · load generators ${p.cpu.loadgenSeconds.toFixed(1)} s · bench ${p.cpu.benchSeconds.toFixed(1)} s · interrupts ${p.cpu.irqSeconds.toFixed(1)} s · other processes ${p.cpu.otherSeconds.toFixed(1)} s · steal ${p.cpu.stealSeconds.toFixed(1)} s · machine ${percent(p.cpu.machineBusyShare)} busy`,
    `    CPU / payment  pay servers ${p.cpu.perOpMs.servers.toFixed(2)} ms · issuer host ${p.cpu.perOpMs.issuer.toFixed(2)} ms · PostgreSQL ${p.cpu.perOpMs.postgres.toFixed(2)} ms · load generators (the devices) ${p.cpu.perOpMs.loadgens.toFixed(2)} ms`,
    `    non-2xx        ${p.non2xx}${p.warmupNon2xx ? ` (and ${p.warmupNon2xx} in the warm-up or a repeated run)` : ""}`,
    `    declines       ${total(r.declines)}${total(r.declines) ? ` ${JSON.stringify(r.declines)}` : ""}${total(r.warmupDeclines) ? ` (and ${total(r.warmupDeclines)} in the warm-up or a repeated run: ${JSON.stringify(r.warmupDeclines)})` : ""}`,
  );
  if (p.non2xx > 0) {
    lines.push(`      statuses: ${JSON.stringify(p.statuses)}`);
    for (const e of p.errorSamples) lines.push(`      ${e.kind} ${e.status || "transport error"}: ${e.body}`);
  }
  if (p.exhausted)
    lines.push("    note           the payments ran out before the deadline: the rate is over the time it ran");
  const traced = (whose: string, t: (TraceSnapshot & { perOp: number }) | null) => {
    if (!t) return;
    lines.push(
      `    SQL trace      ${t.roundTrips} round trips to ${whose} database = ${t.perOp.toFixed(2)} per payment (the proxy costs CPU: the rate above is not comparable)`,
      "      count   avg ms  statement",
    );
    for (const s of t.statements.slice(0, 30))
      lines.push(
        `      ${String(s.count).padStart(6)}  ${(s.totalMs / s.count).toFixed(2).padStart(6)}  ${s.sql.slice(0, 110)}`,
      );
  };
  if (r.openLoop) lines.push(...formatOpenLoop(r.openLoop));
  traced("the pay server's", p.sqlTrace);
  traced("the issuer host's", r.issuerSqlTrace);
  if (r.explained) {
    lines.push(
      ...formatExplained("pay server", r.explained.pay),
      ...formatExplained("issuer host", r.explained.issuer),
    );
    const all = [...r.explained.pay, ...r.explained.issuer];
    const seq = all.filter((e) => e.access === "seq-scan" || e.access === "wrong-index").length;
    lines.push(
      `    EXPLAIN sum    ${all.filter((e) => e.access === "index").length} of ${all.length} use an index, ${all.filter((e) => e.access === "none").length} read no table, ${seq} scan a table whole or find a row by id through another index${seq ? " ← look" : ""}, ${all.filter((e) => e.access === "error").length} not explained`,
    );
  }
  const flag = (ok: boolean) => (ok ? "" : " ← MISMATCH");
  lines.push(
    `  checks           pay server: ${c.authorizedInPayDb} of ${c.authorizedAnswered} payments answered authorized are authorized${flag(c.authorizedInPayDb === c.authorizedAnswered)}, ${c.authorizedUnanswered} authorized unanswered${flag(c.authorizedUnanswered === 0)}, ${c.declinedInPayDb} declined${flag(c.declinedInPayDb === 0)}, ${c.issuerOperationsPending} issuer requests pending${flag(c.issuerOperationsPending === 0)} · ledger ${c.ledger.ok ? "balanced" : `NOT BALANCED (${c.ledger.problems} problems)`}, ${c.ledger.transactions} transactions, ${c.ledger.entries} entries`,
    `                   messenger: ${c.announcementsDelivered} of MPay's messages (a receipt per approved payment) delivered to the payers' accounts, ${c.announcementsUndelivered} not (each is sent after its commit, in the background: the last few may still be on their way when the servers stop)`,
    `                   issuers: ${c.approvedAtIssuer} of them approved in the issuers' books${flag(c.approvedAtIssuer === c.authorizedAnswered)}, ${c.declinedAtIssuer} declined${flag(c.declinedAtIssuer === 0)} · books ${c.issuerBooksBalanced ? "balanced" : `NOT BALANCED (${c.issuerImbalances} cards)`}`,
    `  setup time       ${r.setupSeconds.toFixed(1)} s (not timed)`,
  );
  if (r.cpuProfileDir)
    lines.push(
      `  CPU profiles     ${r.cpuProfileDir}: pay-<pid>-<n>.cpuprofile per pay-server process and for the issuer host (pid ${r.issuerPid ?? "?"}), one per timed run (the last is the reported one)`,
    );
  return lines.join("\n") + "\n";
}

/** The HTML page of a `pay` run (bench/html-report.ts). */
export function payHtml(r: PayReport, text: string): string {
  const c = r.capacity;
  return renderHtmlReport({
    title: `MPay bench · pay: the whole ${r.method === "passkey" ? "passkey" : "PIN"} path`,
    subtitle: `${r.cpus} cores · Node ${r.node} · PostgreSQL ${r.postgresVersion} · ${r.processes} pay-server process(es), issuer host, ${r.clients} clients in ${r.loadgens} load generator(s), ${r.payers} payers · ${r.seconds} s timed after ${r.warmupSeconds} s warm-up`,
    generatedAt: new Date().toISOString(),
    headline: capacityHeadline(c, "approved payments", "Devices"),
    unit: "approved payments",
    perSecond: r.payments.perSecond,
    latency: r.latencyPerSecond,
    references: capacityReferences(c),
    split: splitParts(c, LOADGEN_LABEL),
    totalSeconds: c.cores * c.elapsedSeconds,
    notes: [
      `One payment = ${pathOf(r.method)}, as one synthetic device sees it.`,
      "Capacity = cores ÷ (pay server + issuer host + PostgreSQL CPU seconds per approved payment) over the timed run: the rate if the cores did nothing but the servers' work.",
      `The devices: ${DEVICE_CODE}, ${stretchingText(r.keyStretching)}; ${c.loadgenMsPerPayment.toFixed(2)} ms of CPU per approved payment in the run (HTTP, JSON and OPAQUE included), on the same cores as the servers. Their cryptography alone, OPAQUE aside, on one core: ${us(r.devicePrimitives.nodeCrypto.cpuMicroseconds)} per payment with node:crypto against ${us(r.devicePrimitives.sdk.cpuMicroseconds)} with the wallet SDK's code.`,
      methodNote(r.method).charAt(0).toUpperCase() + methodNote(r.method).slice(1) + ".",
      "A shared machine: the figures are noisy; read the CPU split's 'other processes' to see how much others took.",
    ],
    textReport: text,
  });
}
