/** What every benchmark scenario gets from `bench/run.ts`. */
import type { Cleanup } from "./cleanup.ts";

export interface BenchOptions {
  clients: number;
  seconds: number;
  processes: number;
  /** PostgreSQL connections per pay-server process; undefined → sized from clients and processes. */
  pool: number | undefined;
  warmupSeconds: number;
  /** Merchants the clients are spread over (1: every capture posts to the same merchant's balance rows). */
  merchants: number;
  /**
   * `auth`, `pay`: synthetic payers, each with a bound device and a PIN (and in `pay` a card enrolled at the
   * issuer); undefined → 4 per client (`auth`), 2 per client (`pay`).
   */
  payers: number | undefined;
  /** `auth`, `pay`: load generator processes the clients are spread over. */
  loadgens: number;
  json: boolean;
  /**
   * `api`, `pay`: where to write the HTML report; undefined → bench-results/<scenario>-<timestamp>.html, next to
   * the JSON copy of the report.
   */
  html: string | undefined;
  /** Skip the pgbench baseline (no ratio then); for quick iterations. */
  skipPgbench: boolean;
  /** Folder for V8 CPU profiles of the pay-server processes and the issuer host (NODE_OPTIONS=--cpu-prof), or undefined. */
  cpuProfileDir: string | undefined;
  /** Route the servers' PostgreSQL traffic through a counting proxy and report statements per request. */
  traceSql: boolean;
  /** `pay`: how the payers approve: the PIN (OPAQUE login) or a passkey (a WebAuthn assertion over the terms' hash). */
  method: "pin" | "passkey";
  /**
   * `pay`: an open-loop run at this many payments per second (arrivals on a fixed schedule, not waiting for
   * answers) after the closed-loop run; "auto": at 80 % of the closed loop's measured rate; undefined: none.
   */
  rate: number | "auto" | undefined;
  /** `pay`: extra payers, devices and cards seeded in bulk in the databases before the run (tables at size). */
  enrolled: number[];
}

export interface ScenarioContext {
  options: BenchOptions;
  cleanup: Cleanup;
  /** Progress for a human, on stderr (stdout carries only the report). */
  progress(line: string): void;
}

export interface Scenario {
  summary: string;
  /** Prints its report on stdout; returns the exit code (non-zero only for errors, never for a missed target). */
  run(context: ScenarioContext): Promise<number>;
}
