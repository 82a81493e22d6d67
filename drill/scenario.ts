/**
 * A drill: a fault or flood run against the real system that ends by proving the system's invariants held, and
 * prints a report. Unlike a benchmark, a drill fails (exit code 1) when an invariant broke.
 */
export interface DrillResult {
  /** True when every invariant the drill checks held. */
  ok: boolean;
  /** The human report (stdout); figures a reviewer can re-run with `command`. */
  report: string;
  /** The command line that reproduces this run. */
  command: string;
}

export interface Drill {
  /** One line for `npm run drill -- --help`. */
  summary: string;
  /** Extra usage lines for this drill's own options. */
  usage: string;
  /** Runs with the options after the drill's name (parsed by the drill itself, node:util parseArgs). */
  run(args: string[], progress: (line: string) => void): Promise<DrillResult>;
}
