/**
 * Where one run of `mpay` reads and writes. The process entry (main.ts) gives it the process's own streams and
 * environment; tests run `main()` in-process with their own, which spares each command a process start.
 */
import type { Readable, Writable } from "node:stream";

export interface CliIo {
  /** The configuration variables (config.ts) and LOG_LEVEL. */
  env: NodeJS.ProcessEnv;
  /** Shares and certificates come in here; on a terminal (`isTTY`) shares are read without echo. */
  stdin: Readable & { isTTY?: boolean | undefined };
  stdout: Writable;
  stderr: Writable;
}

/** How a command answers: `print` writes the human text, or the data as one JSON line with --json. */
export type Out = { json: boolean; io: CliIo; print(human: string, data: unknown): void };

export function processIo(): CliIo {
  return { env: process.env, stdin: process.stdin, stdout: process.stdout, stderr: process.stderr };
}
