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

/**
 * A bad option (unknown, malformed, out of range): `npm run drill` prints its one-line message and the drill's
 * usage and exits 2, without a stack; anything else a drill throws is a failure to run (exit 1).
 */
export class UsageError extends Error {
  override name = "UsageError";
}

/** node:util's parseArgs refusals (an unknown option, a missing value, a stray argument) carry these codes. */
const PARSE_ARGS_CODES = /^ERR_PARSE_ARGS_/;

/** Runs a drill's option parsing (node:util parseArgs), with parseArgs' own refusals turned into UsageErrors. */
export function parseOptions<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (error instanceof TypeError && typeof code === "string" && PARSE_ARGS_CODES.test(code))
      throw new UsageError(error.message.split("\n")[0] ?? "bad option");
    throw error;
  }
}
