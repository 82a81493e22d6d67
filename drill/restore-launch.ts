/**
 * How the restore drill runs the issuer host and the pay servers: as processes of their own (the drill, as an
 * operator's site runs them), or in the drill's process (the short run in `npm test`: no process start and no
 * TypeScript compile per server, seconds each on a busy machine). Either way each one is the real server — the
 * same system, app, HTTP port and workers, from the same environment variables.
 */
import pino from "pino";
import { loadConfig as loadIssuerConfig } from "../services/issuer/src/config.ts";
import { startIssuerHost } from "../services/issuer/src/server.ts";
import { loadConfig } from "../services/pay/src/config.ts";
import { startPayServer } from "../services/pay/src/server.ts";
import { startIssuerProcess } from "../e2e/support/issuer-process.ts";
import { startPayProcess } from "../e2e/support/pay-process.ts";

export interface RunningIssuer {
  url: string;
  /** The newest one-time code the simulator "sent" to `phone` (its test inbox). */
  latestCode(phone: string): Promise<string>;
  stop(): Promise<void>;
}

export interface RunningPay {
  url: string;
  /** Everything the server logged. */
  output(): string;
  stop(): Promise<void>;
}

export interface Launcher {
  name: "processes" | "in-process";
  issuer(env: Record<string, string>): Promise<RunningIssuer>;
  pay(env: Record<string, string>): Promise<RunningPay>;
}

export const processLauncher: Launcher = {
  name: "processes",
  issuer: (env) => startIssuerProcess(env),
  pay: (env) => startPayProcess(env),
};

export const inProcessLauncher: Launcher = {
  name: "in-process",
  async issuer(env) {
    // The issuer's own databases are not what the drill backs up: on PGlite they stay in memory.
    const config = { ...loadIssuerConfig({ ISSUER_PORT: "0", ...env }), persistentEmbeddedDatabases: false };
    const server = await startIssuerHost(config, pino({ level: "silent" }));
    return {
      url: server.url,
      latestCode: (phone) => latestCode(server.url, phone),
      stop: () => server.stop(),
    };
  },
  async pay(env) {
    const lines: string[] = [];
    const log = pino({ level: "info" }, { write: (line: string) => void lines.push(line) });
    const server = await startPayServer(loadConfig(env), { log });
    return { url: server.url, output: () => lines.join(""), stop: server.stop };
  },
};

async function latestCode(url: string, phone: string): Promise<string> {
  const inbox = (await (await fetch(`${url}/test-inbox?phone=${encodeURIComponent(phone)}`)).json()) as {
    messages: Array<{ code: string }>;
  };
  const code = inbox.messages[0]?.code;
  if (!code) throw new Error(`no code was sent to ${phone}`);
  return code;
}
