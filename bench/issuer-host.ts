/**
 * The issuer host as the `pay` benchmark runs it, in a process of its own: services/issuer's host, configured from
 * the environment by its own `loadConfig` and started by its own `startIssuerHost`, as src/main.ts does, with one
 * change: `MPAY_BENCH_CODES_PER_CARD` one-time codes per card a day instead of 5.
 *
 * Why: every synthetic payer enrolls a card for real (the enrollment JWE, the code from the test inbox, the device
 * binding), and the simulator has nine test cards that approve (three per issuer), so five codes per card a day
 * would allow only 45 payers. The limit guards enrollment against a stolen card number; nothing on the payment
 * path reads it. Every other setting (the failure limits, the PIN limit per payment, the card checks) is the
 * host's own.
 *
 * Like main.ts it reports `{ ready, url }` over IPC once it listens (e2e/support/service-process.ts) and stops
 * gracefully on SIGTERM.
 */
import { loadConfig } from "../services/issuer/src/config.ts";
import { startIssuerHost, type RunningIssuerHost } from "../services/issuer/src/server.ts";

let server: RunningIssuerHost;
try {
  const config = loadConfig();
  const raw = process.env["MPAY_BENCH_CODES_PER_CARD"];
  const codesPerCard = raw === undefined ? config.enrollmentLimits.codesPerCard : Number(raw);
  if (!Number.isInteger(codesPerCard) || codesPerCard < 1)
    throw new Error(`MPAY_BENCH_CODES_PER_CARD must be a positive integer, got ${JSON.stringify(raw)}`);
  server = await startIssuerHost({ ...config, enrollmentLimits: { ...config.enrollmentLimits, codesPerCard } });
} catch (error) {
  process.stderr.write(`issuer host failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
process.send?.({ ready: true, url: server.url });

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    server.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
