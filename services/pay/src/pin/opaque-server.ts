/**
 * The OPAQUE server's login steps (RFC 9807, `@serenity-kit/opaque`, WebAssembly): pure CPU work, ~1.3 ms per
 * `startLogin`, which on the event loop delayed every other request of the pay server (issue 11). They run on a
 * pool of worker threads (piscina, sized from os.availableParallelism()); the steps on the event loop are kept only
 * as the fallback for a pool that cannot start.
 *
 * `finishLogin` stays on the event loop even with a pool: it is a key derivation and a MAC check, ~10 µs, while a
 * task through the pool costs the event loop ~90 µs (post, wake-up, answer) besides the worker's time.
 */
import { availableParallelism } from "node:os";
import { threadId } from "node:worker_threads";
import * as opaque from "@serenity-kit/opaque";
import { Piscina } from "piscina";

export interface StartLoginArgs {
  serverSetup: string;
  registrationRecord: string;
  startLoginRequest: string;
  userIdentifier: string;
}

export interface OpaqueServer {
  /** "pool" (worker threads) or "inline" (the event loop, the fallback). */
  readonly kind: "pool" | "inline";
  startLogin(args: StartLoginArgs): Promise<{ serverLoginState: string; loginResponse: string }>;
  finishLogin(args: { serverLoginState: string; finishLoginRequest: string }): Promise<{ sessionKey: string }>;
  close(): Promise<void>;
}

/** On the event loop: the fallback, and what a PinService made without a pool uses. */
export const inlineOpaqueServer: OpaqueServer = {
  kind: "inline",
  async startLogin(args) {
    await opaque.ready;
    const { serverLoginState, loginResponse } = opaque.server.startLogin(args);
    return { serverLoginState, loginResponse };
  },
  async finishLogin(args) {
    await opaque.ready;
    return { sessionKey: opaque.server.finishLogin(args).sessionKey };
  },
  async close() {},
};

const WORKER = new URL("./opaque-worker.mjs", import.meta.url);

/**
 * Starts the pool and checks a worker answers; when it cannot start (no worker threads here), answers the inline
 * steps and says why through `onFallback`.
 */
export async function startOpaqueServer(
  options: { threads?: number; onFallback?: (error: unknown) => void } = {},
): Promise<OpaqueServer> {
  const threads = Math.max(1, options.threads ?? availableParallelism());
  let pool: Piscina | null = null;
  try {
    pool = new Piscina({
      filename: WORKER.href,
      minThreads: 1,
      maxThreads: threads,
      idleTimeout: 60_000,
      // The worker is plain JavaScript: it needs none of the process's preloads (a TypeScript loader or a profiler
      // given through NODE_OPTIONS or --import, which a worker thread may not be able to load).
      execArgv: [],
      env: { ...process.env, NODE_OPTIONS: "" },
    });
    // A worker that dies fails its task (the caller's request); the pool itself must not crash the process.
    pool.on("error", (error: unknown) => options.onFallback?.(error));
    // A worker answers with its own thread id: not this one's.
    const answer = (await pool.run({ step: "ping", args: {} })) as { threadId: number };
    if (answer.threadId === threadId) throw new Error("the OPAQUE worker ran on the event loop");
  } catch (error) {
    await pool?.destroy().catch(() => undefined);
    options.onFallback?.(error);
    return inlineOpaqueServer;
  }
  const running = pool;
  return {
    kind: "pool",
    startLogin: (args) => running.run({ step: "startLogin", args }),
    // Cheaper here than the pool's own cost per task (see the top of this file).
    finishLogin: inlineOpaqueServer.finishLogin,
    close: () => running.destroy(),
  };
}
