/**
 * `npm run bench -- pin-offline [--seconds N]`: the cost of one offline PIN guess for a thief who holds the pay
 * database (a payer's OPAQUE registration record) and the KEK (so the OPAQUE server setup, sealed in
 * provider_secrets, opens). Without the KEK no guess can be tested at all; with it, each guess must redo what a
 * login does: the server's OPRF evaluation with the opened setup (@serenity-kit/opaque `server.startLogin`, as
 * services/pay/src/pin/service.ts calls it) and the wallet's side with its key stretching (packages/wallet's
 * `startPinLogin`/`finishPinLogin`, Argon2id at the wallet's default setting), which either fails (a wrong PIN)
 * or completes (the right one).
 *
 * Wrong guesses run for `--seconds` (at least 5 of them), on this process's one thread, measured in CPU time so
 * that other load on the machine does not inflate the figure; then the right PIN is tried once and must be found.
 * The report gives the time for all 10^6 PINs on one core (docs/key-providers.md quotes it). No database needed.
 */
import { performance } from "node:perf_hooks";
import * as opaque from "@serenity-kit/opaque";
import {
  DEFAULT_PIN_KEY_STRETCHING,
  finishPinLogin,
  finishPinRegistration,
  startPinLogin,
  startPinRegistration,
  type PinKeyStretching,
} from "@mpay/wallet";
import { formatPinOfflineReport, pinOfflineReport } from "./pin-offline-report.ts";
import { measure } from "./primitives.ts";
import type { Scenario } from "./scenario.ts";

const PAYER = "usr_bench_offline";
const PIN = "738204";

const cpuSeconds = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
};

/** One guess as a thief makes it: the OPRF with the opened setup, then the wallet's stretching and finish. */
async function guess(
  pin: string,
  serverSetup: string,
  registrationRecord: string,
  keyStretching: PinKeyStretching,
): Promise<boolean> {
  const start = await startPinLogin(pin, { keyStretching });
  const { loginResponse } = opaque.server.startLogin({
    serverSetup,
    registrationRecord,
    startLoginRequest: start.startLoginRequest,
    userIdentifier: PAYER,
  });
  try {
    await finishPinLogin(start.state, loginResponse);
    return true;
  } catch {
    return false;
  }
}

export const pinOfflineScenario: Scenario = {
  summary: "cost of one offline PIN guess with the database and the KEK (OPAQUE + the wallet's key stretching)",
  async run({ options, progress }) {
    await opaque.ready;
    const keyStretching = DEFAULT_PIN_KEY_STRETCHING;
    // What the thief opened with the KEK, and the record from the database: made here as the pay server makes them.
    const serverSetup = opaque.server.createSetup();
    const registration = await startPinRegistration(PIN, { keyStretching });
    const { registrationResponse } = opaque.server.createRegistrationResponse({
      serverSetup,
      userIdentifier: PAYER,
      registrationRequest: registration.registrationRequest,
    });
    const { registrationRecord } = await finishPinRegistration(registration.state, registrationResponse);

    progress(`timing wrong guesses for ${options.seconds} s (key stretching ${JSON.stringify(keyStretching)})`);
    let guesses = 0;
    const cpu0 = cpuSeconds();
    const wall0 = performance.now();
    while (guesses < 5 || performance.now() - wall0 < options.seconds * 1000) {
      const wrong = String(guesses).padStart(6, "0");
      if (await guess(wrong, serverSetup, registrationRecord, keyStretching))
        throw new Error(`a wrong PIN (${wrong}) was accepted`);
      guesses++;
    }
    const cpu = cpuSeconds() - cpu0;
    const wall = (performance.now() - wall0) / 1000;
    const rightPinFound = await guess(PIN, serverSetup, registrationRecord, keyStretching);

    const startLogin = opaque.client.startLogin({ password: PIN });
    const oprf = await measure(1, () =>
      opaque.server.startLogin({
        serverSetup,
        registrationRecord,
        startLoginRequest: startLogin.startLoginRequest,
        userIdentifier: PAYER,
      }),
    );

    const report = pinOfflineReport({
      keyStretching: typeof keyStretching === "string" ? keyStretching : JSON.stringify(keyStretching),
      guesses,
      cpuSecondsPerGuess: cpu / guesses,
      wallSecondsPerGuess: wall / guesses,
      oprfCpuMs: oprf.cpuMicroseconds / 1000,
      rightPinFound,
    });
    process.stdout.write(`${options.json ? JSON.stringify(report) : formatPinOfflineReport(report)}\n`);
    return rightPinFound ? 0 : 1;
  },
};
