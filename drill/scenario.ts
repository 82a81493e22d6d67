/**
 * A drill: a fault or flood run against the real system that ends by proving the system's invariants held, and
 * prints a report. Unlike a benchmark, a drill fails (exit code 1) when an invariant broke.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";

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
  /** Runs with the options after the drill's name (parsed by the drill itself, with parseOptions). */
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

/** A drill's option table, as node:util's parseArgs takes it. */
export type OptionTable = NonNullable<ParseArgsConfig["options"]>;

type Values<O extends OptionTable> = ReturnType<
  typeof parseArgs<{ args: string[]; options: O; strict: true }>
>["values"];

/** The options of a table that take a value (the ones a number is read from). */
type ValueOption<O extends OptionTable> = { [K in keyof O]: O[K]["type"] extends "string" ? K : never }[keyof O] &
  string;

/**
 * A drill's parsed options: the values as parseArgs gives them, and readers of numbers that refuse a bad value with
 * a UsageError naming the option. Each reader gives `fallback` (a number, or undefined for "not asked") when the
 * option is absent.
 */
export interface DrillOptions<O extends OptionTable> {
  values: Values<O>;
  /** A whole number, at least `least` when given (`--name must be an integer ≥ least, got …`). */
  integer<F extends number | undefined>(name: ValueOption<O>, fallback: F, least?: number): number | F;
  /** A whole number ≥ 1. */
  positiveInteger<F extends number | undefined>(name: ValueOption<O>, fallback: F): number | F;
  /** Any number > 0, decimals allowed (`--name must be a positive number, got …`). */
  positiveNumber<F extends number | undefined>(name: ValueOption<O>, fallback: F): number | F;
}

/**
 * Parses a drill's options (node:util parseArgs, strict: no unknown option, no stray argument), with parseArgs' own
 * refusals turned into UsageErrors, so that every bad option of every drill exits 2 with its one line.
 */
export function parseOptions<O extends OptionTable>(args: string[], options: O): DrillOptions<O> {
  let values: Values<O>;
  try {
    values = parseArgs({ args, options, strict: true }).values as Values<O>;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (error instanceof TypeError && typeof code === "string" && PARSE_ARGS_CODES.test(code))
      throw new UsageError(error.message.split("\n")[0] ?? "bad option");
    throw error;
  }
  const given = (name: string): string | undefined => {
    const value: unknown = (values as Record<string, unknown>)[name];
    return typeof value === "string" ? value : undefined;
  };
  const read = <F extends number | undefined>(
    name: string,
    fallback: F,
    fits: (n: number) => boolean,
    what: string,
  ): number | F => {
    const raw = given(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!fits(n)) throw new UsageError(`--${name} must be ${what}, got ${raw}`);
    return n;
  };
  const integer = <F extends number | undefined>(name: string, fallback: F, least?: number) =>
    read(
      name,
      fallback,
      (n) => Number.isSafeInteger(n) && (least === undefined || n >= least),
      least === undefined ? "an integer" : `an integer ≥ ${least}`,
    );
  return {
    values,
    integer,
    positiveInteger: (name, fallback) => integer(name, fallback, 1),
    positiveNumber: (name, fallback) => read(name, fallback, (n) => Number.isFinite(n) && n > 0, "a positive number"),
  };
}
