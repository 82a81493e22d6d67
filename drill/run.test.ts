/**
 * `npm run drill`'s answer to a bad option (issue 12): exit 2, the refusal on one line and the drill's usage,
 * never a stack; exit 1 stays for a drill that ran and failed.
 */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { parseCrashOptions } from "./crash.ts";
import { failoverDrill } from "./failover.ts";
import { fuzzDrill } from "./fuzz.ts";
import { restoreDrill } from "./restore.ts";
import { soakDrill } from "./soak.ts";
import { parseOptions, UsageError } from "./scenario.ts";

function drill(...args: string[]) {
  const run = spawnSync(process.execPath, ["--import", "tsx", "drill/run.ts", ...args], {
    encoding: "utf8",
    timeout: 30_000,
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe("npm run drill with a bad option", () => {
  it("exits 2 with the refusal on one line and the drill's usage", () => {
    const answer = drill("crash", "--crashes", "0");
    expect(answer.code).toBe(2);
    expect(answer.stderr.split("\n")[0]).toBe("drill crash: --crashes must be an integer ≥ 1, got 0");
    expect(answer.stderr).toContain("--life-seconds S");
    expect(answer.stderr).not.toMatch(/\n\s+at |\.ts:\d+/);
    expect(answer.stdout).toBe("");
  });

  // What run.ts turns into exit 2 (above) is a UsageError from the drill's run, thrown before it opens anything: one
  // bad option per drill, each refused a different way (a number out of range, a fraction where a count is asked,
  // an option the drill does not know). In this process: a process per drill costs seconds of compiling each.
  it.each([
    ["soak", soakDrill, ["--minutes", "0"], "--minutes must be a positive number, got 0"],
    ["restore", restoreDrill, ["--rounds-after", "1.5"], "--rounds-after must be an integer ≥ 1, got 1.5"],
    ["failover", failoverDrill, ["--bogus"], "Unknown option '--bogus'"],
  ])("has the %s drill refuse a bad option with a one-line UsageError", async (_, target, args, refusal) => {
    const error = await target.run(args, () => {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toBe(refusal);
  });

  it("has the options' parser throw UsageError, not a plain error", () => {
    expect(() => parseCrashOptions(["--points", "payment.create.after-commit,nope"], {})).toThrow(UsageError);
    expect(() => parseCrashOptions(["--life-seconds", "-3"], {})).toThrow(UsageError);
    expect(() => parseCrashOptions(["--crashes"], {})).toThrow(/argument missing/);
    expect(parseCrashOptions(["--crashes", "3"], {}).crashes).toBe(3);
  });

  it("reads numbers from the option table, with the fallback for an option not given", () => {
    const table = { rate: { type: "string" }, seed: { type: "string" }, quiet: { type: "boolean" } } as const;
    const read = (...args: string[]) => parseOptions(args, table);
    expect(read("--rate", "0.5").positiveNumber("rate", undefined)).toBe(0.5);
    expect(read().positiveNumber("rate", undefined)).toBeUndefined();
    expect(read().positiveInteger("rate", 7)).toBe(7);
    expect(read("--seed=-3").integer("seed", undefined)).toBe(-3);
    expect(read("--quiet").values.quiet).toBe(true);
    expect(() => read("--rate", "0").positiveNumber("rate", 1)).toThrow("--rate must be a positive number, got 0");
    expect(() => read("--rate", "0.5").positiveInteger("rate", 1)).toThrow("--rate must be an integer ≥ 1, got 0.5");
    expect(() => read("--seed", "x").integer("seed", undefined)).toThrow("--seed must be an integer, got x");
    expect(() => read("--seed=-1").integer("seed", 0, 0)).toThrow(UsageError);
    expect(() => read("stray")).toThrow(UsageError);
  });

  it("has the fuzz drill refuse an unknown option or a bad count with UsageError before it opens anything", async () => {
    const refusal = (args: string[]) => fuzzDrill.run(args, () => {}).catch((error: unknown) => error);
    const unknown = await refusal(["--no-such-option"]);
    expect(unknown).toBeInstanceOf(UsageError);
    expect((unknown as Error).message).toBe("Unknown option '--no-such-option'");
    expect(await refusal(["--cases", "many"])).toBeInstanceOf(UsageError);
    expect(await refusal(["--backend", "sqlite"])).toBeInstanceOf(UsageError);
  });
});
