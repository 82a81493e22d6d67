/**
 * `npm run bench -- <scenario> [options]`: load scenarios against the pay server, each printing a report.
 * Progress goes to stderr, the report to stdout (`--json` for machine-readable output). The exit code is
 * non-zero only for errors (bad options, a failed setup, failed requests, an unbalanced ledger), never for a
 * missed target: a benchmark is a measurement, not a test.
 */
import { parseArgs } from "node:util";
import { resolve } from "node:path";
import { mkdir } from "node:fs/promises";
import { apiScenario } from "./api.ts";
import { authScenario } from "./auth.ts";
import { payScenario } from "./pay.ts";
import { pinOfflineScenario } from "./pin-offline.ts";
import { Cleanup } from "./cleanup.ts";
import type { BenchOptions, Scenario } from "./scenario.ts";

const SCENARIOS: Record<string, Scenario> = {
  api: apiScenario,
  auth: authScenario,
  pay: payScenario,
  "pin-offline": pinOfflineScenario,
};

const USAGE = `Usage: npm run bench -- <scenario> [options]

Scenarios:
${Object.entries(SCENARIOS)
  .map(([name, s]) => `  ${name.padEnd(11)} ${s.summary}`)
  .join("\n")}

Options:
  --clients N        concurrent virtual users (and pgbench clients)        default 16
  --seconds N        length of the timed run (and of the pgbench run)      default 15
  --processes N      pay-server processes, clients spread round-robin     default 1
  --pool N           PostgreSQL connections per pay-server process         default ceil(clients / processes)
  --warmup N         warm-up seconds before the timed run (0: none)        default 3
  --merchants N      merchants the clients are spread over (api)           default 1
  --payers N         synthetic payers with a device and a PIN (auth, pay) default 4 per client (auth), 2 (pay)
  --loadgens N       load generator processes (auth, pay)                 default 1
  --method M         pay: approve with the PIN or a passkey (pin|passkey)  default pin
  --rate N|auto      pay: then an open-loop run at N payments/s (auto: 80 % of the closed loop's rate)
  --enrolled N[,N…]  pay: seed N more payers with a device and a card in bulk first; several: one run each
  --skip-pgbench     no pgbench baseline (and so no ratio) (api, pay)
  --cpu-prof DIR     write V8 CPU profiles of the pay servers (and issuer host) to DIR
  --trace-sql        count round trips and statements through a proxy (slows the run)
  --json             print the report as JSON
  --html FILE        write the HTML report (charts) to FILE (api, pay)     default bench-results/<scenario>-<time>.html
                     (api and pay always write bench-results/<scenario>-<time>.json too)
  -h, --help         this text

PostgreSQL: BENCH_DATABASE_URL, else DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test.
pgbench: found on PATH, or set PGBENCH to its path.
`;

function positiveInt(name: string, raw: string | undefined, fallback: number, min = 1): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min)
    throw new Error(`--${name} must be an integer ≥ ${min}, got ${JSON.stringify(raw)}`);
  return value;
}

function methodOf(raw: string | undefined): BenchOptions["method"] {
  if (raw === undefined || raw === "pin" || raw === "passkey") return raw ?? "pin";
  throw new Error(`--method must be pin or passkey, got ${JSON.stringify(raw)}`);
}

function parseOptions(argv: string[]): { scenario: string | undefined; help: boolean; options: BenchOptions } {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      clients: { type: "string" },
      seconds: { type: "string" },
      processes: { type: "string" },
      pool: { type: "string" },
      warmup: { type: "string" },
      merchants: { type: "string" },
      payers: { type: "string" },
      loadgens: { type: "string" },
      "skip-pgbench": { type: "boolean", default: false },
      "cpu-prof": { type: "string" },
      "trace-sql": { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      html: { type: "string" },
      method: { type: "string" },
      rate: { type: "string" },
      enrolled: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (positionals.length > 1) throw new Error(`one scenario at a time, got ${positionals.join(" ")}`);
  return {
    scenario: positionals[0],
    help: values.help,
    options: {
      clients: positiveInt("clients", values.clients, 16),
      seconds: positiveInt("seconds", values.seconds, 15),
      processes: positiveInt("processes", values.processes, 1),
      pool: values.pool === undefined ? undefined : positiveInt("pool", values.pool, 0),
      warmupSeconds: positiveInt("warmup", values.warmup, 3, 0),
      merchants: positiveInt("merchants", values.merchants, 1),
      payers: values.payers === undefined ? undefined : positiveInt("payers", values.payers, 0, 1),
      loadgens: positiveInt("loadgens", values.loadgens, 1),
      json: values.json,
      html: values.html === undefined ? undefined : resolve(values.html),
      skipPgbench: values["skip-pgbench"],
      cpuProfileDir: values["cpu-prof"] === undefined ? undefined : resolve(values["cpu-prof"]),
      traceSql: values["trace-sql"],
      method: methodOf(values.method),
      rate: values.rate === undefined || values.rate === "auto" ? values.rate : positiveInt("rate", values.rate, 0),
      enrolled:
        values.enrolled === undefined
          ? []
          : values.enrolled.split(",").map((n) => positiveInt("enrolled", n.trim().replace(/k$/i, "000"), 0, 0)),
    },
  };
}

async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseOptions>;
  try {
    parsed = parseOptions(argv);
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    return 2;
  }
  if (parsed.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const scenario = parsed.scenario === undefined ? undefined : SCENARIOS[parsed.scenario];
  if (!scenario) {
    process.stderr.write(
      `${parsed.scenario === undefined ? "No scenario given." : `Unknown scenario: ${parsed.scenario}.`}\n\n${USAGE}`,
    );
    return 2;
  }
  const progress = (line: string) => process.stderr.write(`[bench] ${line}\n`);
  const cleanup = new Cleanup(progress);
  // Ctrl-C reaches the servers and the load generator too (same process group); here, undo what was made.
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    progress(`${signal}: cleaning up`);
    void cleanup.run().finally(() => process.exit(130));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  if (parsed.options.cpuProfileDir) await mkdir(parsed.options.cpuProfileDir, { recursive: true });
  try {
    return await scenario.run({ options: parsed.options, cleanup, progress });
  } catch (error) {
    // After Ctrl-C, the work fails as its servers and databases go away: that is no news.
    if (!interrupted) progress(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return 1;
  } finally {
    await cleanup.run();
  }
}

process.exitCode = await main(process.argv.slice(2));
