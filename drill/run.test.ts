/**
 * `npm run drill`'s answer to a bad option (issue 12): exit 2, the refusal on one line and the drill's usage,
 * never a stack; exit 1 stays for a drill that ran and failed.
 */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { parseCrashOptions } from "./crash.ts";
import { UsageError } from "./scenario.ts";

function drill(...args: string[]) {
  const run = spawnSync(process.execPath, ["--import", "tsx", "drill/run.ts", ...args], {
    encoding: "utf8",
    timeout: 30_000,
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe("npm run drill with a bad option", () => {
  it.each([
    [["crash", "--crashes", "0"], "drill crash: --crashes must be a positive integer, got 0", "--life-seconds S"],
    [["fuzz", "--no-such-option"], "drill fuzz: Unknown option '--no-such-option'", "--cases N"],
  ])("%j exits 2 with one line and the drill's usage", (args, firstLine, usageLine) => {
    const answer = drill(...args);
    expect(answer.code).toBe(2);
    expect(answer.stderr.split("\n")[0]).toBe(firstLine);
    expect(answer.stderr).toContain(usageLine);
    expect(answer.stderr).not.toMatch(/\n\s+at |\.ts:\d+/);
    expect(answer.stdout).toBe("");
  });

  it("has the options' parser throw UsageError, not a plain error", () => {
    expect(() => parseCrashOptions(["--points", "payment.create.after-commit,nope"], {})).toThrow(UsageError);
    expect(() => parseCrashOptions(["--life-seconds", "-3"], {})).toThrow(UsageError);
    expect(() => parseCrashOptions(["--crashes"], {})).toThrow(/argument missing/);
    expect(parseCrashOptions(["--crashes", "3"], {}).crashes).toBe(3);
  });
});
