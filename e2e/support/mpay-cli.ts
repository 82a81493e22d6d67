/**
 * Runs the operator CLI (`scripts/mpay.mjs`) as the operator would, as a process of its own: shares go in on stdin
 * only, never as arguments. The environment is exactly `env` plus PATH, so a drill says what the CLI is given.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const MPAY = fileURLToPath(new URL("../../scripts/mpay.mjs", import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runMpay(args: string[], env: Record<string, string>, stdin = ""): CliResult {
  const result = spawnSync(process.execPath, [MPAY, ...args], {
    env: { PATH: process.env["PATH"] ?? "", ...env },
    input: stdin,
    encoding: "utf8",
    timeout: 120_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The JSON lines a `--json` command printed (rekey prints two: the new share set, then the report). */
export function jsonLines(stdout: string): Array<Record<string, unknown>> {
  return stdout
    .trim()
    .split("\n")
    .filter((line) => line.startsWith("{") || line.startsWith("["))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
