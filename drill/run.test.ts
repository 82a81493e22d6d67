/**
 * `npm run drill`'s answer to a bad option (issue 12): exit 2, the refusal on one line and the drill's usage,
 * never a stack; exit 1 stays for a drill that ran and failed.
 */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { parseCrashOptions } from "./crash.ts";
import { fuzzDrill } from "./fuzz.ts";
import { UsageError } from "./scenario.ts";

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

  it("has the options' parser throw UsageError, not a plain error", () => {
    expect(() => parseCrashOptions(["--points", "payment.create.after-commit,nope"], {})).toThrow(UsageError);
    expect(() => parseCrashOptions(["--life-seconds", "-3"], {})).toThrow(UsageError);
    expect(() => parseCrashOptions(["--crashes"], {})).toThrow(/argument missing/);
    expect(parseCrashOptions(["--crashes", "3"], {}).crashes).toBe(3);
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
