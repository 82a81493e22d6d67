import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { clockFromEnv, FileClock, setClockOffset, systemClock, TestClock } from "./clock.ts";

describe("clock", () => {
  const dirs: string[] = [];
  afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  it("a TestClock moves only when told", () => {
    const clock = new TestClock();
    const before = clock.now().getTime();
    clock.advance(86_400);
    expect(clock.now().getTime() - before).toBeGreaterThanOrEqual(86_400_000);
    expect(clock.now().getTime() - before).toBeLessThan(86_401_000);
  });

  it("a FileClock follows the offset file, read on every call, and a missing file is no offset", async () => {
    const dir = await mkdtemp(join(tmpdir(), "mpay-clock-"));
    dirs.push(dir);
    const path = join(dir, "clock");
    const clock = new FileClock(path);
    expect(Math.abs(clock.now().getTime() - Date.now())).toBeLessThan(1000);
    setClockOffset(path, 3 * 86_400_000);
    expect(clock.now().getTime() - Date.now()).toBeGreaterThan(3 * 86_400_000 - 1000);
    setClockOffset(path, 0);
    expect(Math.abs(clock.now().getTime() - Date.now())).toBeLessThan(1000);
  });

  it("the environment picks the system clock unless a test clock file is named, and never in production", () => {
    expect(clockFromEnv({}, "MPAY")).toBe(systemClock);
    expect(clockFromEnv({ MPAY_TEST_CLOCK_FILE: "/tmp/x" }, "MPAY")).toBeInstanceOf(FileClock);
    expect(() => clockFromEnv({ MPAY_TEST_CLOCK_FILE: "/tmp/x", NODE_ENV: "production" }, "MPAY")).toThrow(
      /refused with NODE_ENV=production/,
    );
  });

  it("a malformed offset is an error, not a silent zero", async () => {
    const dir = await mkdtemp(join(tmpdir(), "mpay-clock-"));
    dirs.push(dir);
    const path = join(dir, "clock");
    setClockOffset(path, 5);
    const { writeFileSync } = await import("node:fs");
    writeFileSync(path, "tomorrow");
    expect(() => new FileClock(path).now()).toThrow(/integer offset/);
  });
});
