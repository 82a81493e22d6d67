import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadConfig } from "./config.ts";
import { FAULT_POINTS, faultPlanFromEnv } from "./fault-points.ts";

const MODULE = fileURLToPath(new URL("./fault-points.ts", import.meta.url));

/** Runs `faultPoint(point)` twice in a fresh process; what it printed and how it ended. */
function passTwice(env: Record<string, string>): Promise<{ stdout: string; stderr: string; signal: string | null }> {
  const script = `const m = await import(${JSON.stringify(MODULE)}); m.faultPoint("capture.after-issuer"); console.log("first pass"); m.faultPoint("capture.after-issuer"); console.log("second pass");`;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "-e", script],
      { env: { PATH: process.env["PATH"] ?? "", ...env } },
      (error, stdout, stderr) => resolve({ stdout, stderr, signal: error?.signal ?? null }),
    );
  });
}

describe("fault points (PAY_TEST_FAULTS)", () => {
  it("are refused with NODE_ENV=production, at the start and in the process itself", async () => {
    const env = { PAY_TEST_FAULTS: "capture.after-issuer", NODE_ENV: "production" };
    expect(() => faultPlanFromEnv(env)).toThrow(/refused with NODE_ENV=production/);
    expect(() => loadConfig(env)).toThrow(/PAY_TEST_FAULTS kills the server on purpose/);
    // Even if something started without loadConfig, an armed point in production does nothing.
    const production = await passTwice(env);
    expect(production.signal).toBeNull();
    expect(production.stdout).toBe("first pass\nsecond pass\n");
  });

  it("kill the process with SIGKILL on the armed pass, and nothing after it runs", async () => {
    const run = await passTwice({ PAY_TEST_FAULTS: "capture.after-issuer@2", NODE_ENV: "test" });
    expect(run.signal).toBe("SIGKILL");
    expect(run.stdout).toBe("first pass\n");
    expect(run.stderr).toContain("PAY_TEST_FAULTS: dying at capture.after-issuer");
  });

  it("refuse unknown points and counts; unset arms nothing", () => {
    expect(faultPlanFromEnv({})).toBeNull();
    expect(() => faultPlanFromEnv({ PAY_TEST_FAULTS: "capture.after-lunch" })).toThrow(/unknown fault point/);
    expect(() => faultPlanFromEnv({ PAY_TEST_FAULTS: "void.after-issuer@0" })).toThrow(/n ≥ 1/);
    expect(() => loadConfig({ PAY_TEST_FAULTS: "nowhere" })).toThrow(/unknown fault point/);
    const plan = faultPlanFromEnv({ PAY_TEST_FAULTS: "refund.before-issuer, webhook.after-send@3" });
    expect([...(plan ?? [])]).toEqual([
      ["refund.before-issuer", 1],
      ["webhook.after-send", 3],
    ]);
    expect(new Set(FAULT_POINTS).size).toBe(FAULT_POINTS.length);
  });
});
