/**
 * The one clock every rule with a time in it reads: waiting periods, TTLs, expiries, rate-limit windows, the
 * `iat` window of signed statements. Injected, so that a drill moves time forward instead of waiting a day
 * (issue 7: "a drill that needs time to pass moves a test clock; it never skips").
 *
 * - `systemClock`: the machine's time; the only clock outside tests.
 * - `TestClock`: in one process, moved by the test.
 * - `FileClock`: for drills across real processes: every process started with `<PREFIX>_TEST_CLOCK_FILE` adds the
 *   offset that file holds, so the test moves every process's time at once by writing one file (`setClockOffset`).
 *   It is read on every call (a drill's few thousand reads cost nothing), so a move is seen by the next request.
 *   It is refused with `NODE_ENV=production`: a clock anyone with the file could move has no place there.
 */
import { readFileSync, writeFileSync } from "node:fs";

export interface Clock {
  /** Now. An arrow property, so `clock.now` can be handed on alone. */
  readonly now: () => Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** Seconds since the epoch on `clock`, as JOSE's `iat`/`exp` count them. */
export function epochSeconds(clock: Clock): number {
  return Math.floor(clock.now().getTime() / 1000);
}

/** A clock a test moves forward (or back) in one process. */
export class TestClock implements Clock {
  #offsetMs = 0;
  readonly now = (): Date => new Date(Date.now() + this.#offsetMs);
  seconds(): number {
    return epochSeconds(this);
  }
  advance(seconds: number): void {
    this.#offsetMs += seconds * 1000;
  }
}

/** The machine's time plus the offset (milliseconds) written in `path`; a missing or empty file is no offset. */
export class FileClock implements Clock {
  constructor(readonly path: string) {}
  readonly now = (): Date => new Date(Date.now() + readOffset(this.path));
}

function readOffset(path: string): number {
  let text: string;
  try {
    text = readFileSync(path, "utf8").trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return 0;
    throw error;
  }
  if (text === "") return 0;
  const offset = Number(text);
  if (!Number.isSafeInteger(offset))
    throw new Error(`the test clock file ${path} must hold an integer offset in milliseconds`);
  return offset;
}

/** Moves every process reading `path` (a FileClock) to `offsetMs` past the machine's time. */
export function setClockOffset(path: string, offsetMs: number): void {
  writeFileSync(path, String(Math.trunc(offsetMs)));
}

/**
 * The clock a service runs on: the system's, or a FileClock when `<prefix>_TEST_CLOCK_FILE` is set (drills only;
 * refused in production).
 */
export function clockFromEnv(env: NodeJS.ProcessEnv, prefix: string): Clock {
  const variable = `${prefix}_TEST_CLOCK_FILE`;
  const path = env[variable];
  if (!path) return systemClock;
  if (env["NODE_ENV"] === "production")
    throw new Error(
      `${variable} moves the server's clock and is for drills only; it is refused with NODE_ENV=production`,
    );
  return new FileClock(path);
}
