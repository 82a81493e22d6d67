import { describe, expect, it } from "vitest";
import { formatPinOfflineReport, humanDuration, pinOfflineReport } from "./pin-offline-report.ts";

describe("pinOfflineReport", () => {
  const measured = {
    keyStretching: "memory-constrained",
    guesses: 40,
    cpuSecondsPerGuess: 0.25,
    wallSecondsPerGuess: 0.4,
    oprfCpuMs: 1.2,
    rightPinFound: true,
  };

  it("turns the cost of one guess into the time for all 10^6 PINs on one core, and half of it on average", () => {
    const report = pinOfflineReport(measured);
    expect(report.guessesPerCoreSecond).toBe(4);
    expect(report.allPinsSecondsOneCore).toBe(250_000);
    expect(report.expectedSecondsOneCore).toBe(125_000);
  });

  it("prints the figures the docs quote, and says plainly when the attack loop never found the right PIN", () => {
    const text = formatPinOfflineReport(pinOfflineReport(measured));
    expect(text).toContain("250.0 ms CPU");
    expect(text).toContain("250000 s on one core (2.9 days); on average half: 1.4 days");
    expect(text).toContain("right PIN recognised: yes");
    expect(text).toMatch(/K_dev/);
    expect(formatPinOfflineReport(pinOfflineReport({ ...measured, rightPinFound: false }))).toContain(
      "NO (the measurement is void)",
    );
  });

  it("names durations in the largest unit above 1", () => {
    expect([humanDuration(42), humanDuration(600), humanDuration(7200), humanDuration(432_000)]).toEqual([
      "42.0 s",
      "10.0 minutes",
      "2.0 hours",
      "5.0 days",
    ]);
  });
});
