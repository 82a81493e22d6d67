/** Whether the system `npm start` runs is up, asked the way anyone may: each process's health or config URL. */
import { DemoError, type DemoConfig } from "./config.ts";

/**
 * Fails with one line when a process does not answer: the newcomer has not started the system (yet). The web app
 * is asked only by the commands that hand out its links.
 */
export async function checkRunning(config: DemoConfig, options: { web?: boolean } = {}): Promise<void> {
  const services: Array<[name: string, base: string, path: string]> = [
    ["pay server", config.payUrl, "/healthz"],
    ["issuer host", config.issuerUrl, "/healthz"],
    ["messenger", config.messengerUrl, "/healthz"],
  ];
  if (options.web) services.push(["web app", config.webUrl, "/config.json"]);
  for (const [name, base, path] of services) {
    const ok = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(3000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (!ok)
      throw new DemoError(
        `MPay is not running (no ${name} at ${base}): start it with npm start, then run npm run demo again`,
      );
  }
}
