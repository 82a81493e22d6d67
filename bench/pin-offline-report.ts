/**
 * The report of `npm run bench -- pin-offline`: what one offline PIN guess costs a thief who holds the pay
 * database and the KEK, and what trying every 6-digit PIN then takes on one core. Pure functions, so the
 * arithmetic is tested without timing anything (pin-offline-report.test.ts).
 */

export const PIN_SPACE = 1_000_000;

export interface PinOfflineMeasurement {
  /** The wallet's key stretching the record was made with (what every guess must redo). */
  keyStretching: string;
  /** Wrong guesses timed. */
  guesses: number;
  /** CPU seconds of this process per guess (one thread: the WASM runs on it). */
  cpuSecondsPerGuess: number;
  /** Wall seconds per guess (higher on a busy machine). */
  wallSecondsPerGuess: number;
  /** CPU milliseconds of the server's part alone: the OPRF evaluation with the opened server setup. */
  oprfCpuMs: number;
  /** The right PIN, tried last, was recognised: the guess loop is a real attack, not a loop that always fails. */
  rightPinFound: boolean;
}

export interface PinOfflineReport extends PinOfflineMeasurement {
  guessesPerCoreSecond: number;
  /** Seconds to try all 10^6 PINs on one core, and on average (the PIN is found halfway). */
  allPinsSecondsOneCore: number;
  expectedSecondsOneCore: number;
}

export function pinOfflineReport(m: PinOfflineMeasurement): PinOfflineReport {
  const allPinsSecondsOneCore = PIN_SPACE * m.cpuSecondsPerGuess;
  return {
    ...m,
    guessesPerCoreSecond: 1 / m.cpuSecondsPerGuess,
    allPinsSecondsOneCore,
    expectedSecondsOneCore: allPinsSecondsOneCore / 2,
  };
}

/** 5.2 days, 3.1 hours, 42 s: the largest unit that keeps the number above 1. */
export function humanDuration(seconds: number): string {
  if (seconds >= 86_400) return `${(seconds / 86_400).toFixed(1)} days`;
  if (seconds >= 3_600) return `${(seconds / 3_600).toFixed(1)} hours`;
  if (seconds >= 60) return `${(seconds / 60).toFixed(1)} minutes`;
  return `${seconds.toFixed(1)} s`;
}

export function formatPinOfflineReport(r: PinOfflineReport): string {
  return [
    `Offline PIN guessing by a thief with the pay database and the KEK (OPAQUE, key stretching "${r.keyStretching}")`,
    `  per guess:            ${(r.cpuSecondsPerGuess * 1000).toFixed(1)} ms CPU on one core (${(r.wallSecondsPerGuess * 1000).toFixed(1)} ms wall), over ${r.guesses} wrong guesses`,
    `    of which the OPRF:  ${r.oprfCpuMs.toFixed(2)} ms (the server's evaluation with the opened server setup); the rest is the wallet's key stretching`,
    `  guesses per core-s:   ${r.guessesPerCoreSecond.toFixed(2)}`,
    `  all 10^6 PINs:        ${Math.round(r.allPinsSecondsOneCore)} s on one core (${humanDuration(r.allPinsSecondsOneCore)}); on average half: ${humanDuration(r.expectedSecondsOneCore)}`,
    `  right PIN recognised: ${r.rightPinFound ? "yes" : "NO (the measurement is void)"}`,
    "  The PIN alone opens no card: the card's DEK needs K_dev, which only the payer's device holds.",
  ].join("\n");
}
