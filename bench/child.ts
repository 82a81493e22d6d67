/**
 * A helper process of a benchmark (a load generator), forked through tsx so that its CPU is not the bench
 * process's, and driven over IPC one request at a time:
 *
 *   parent → { type, body }   child → { type: "result", result } | { type: "error", message }
 *   parent → { type: "exit" }
 *
 * A protocol maps each request type to its body and result, so both sides are typed from one declaration. The
 * child trusts its parent's messages: both are this program, and nothing else can reach the IPC channel.
 */
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

export type Protocol = Record<string, { body: unknown; result: unknown }>;

type Request<P extends Protocol> = { [K in keyof P & string]: { type: K; body: P[K]["body"] } }[keyof P & string];
type Reply = { type: "result"; result: unknown } | { type: "error"; message: string };
type ParentMessage<P extends Protocol> = Request<P> | { type: "exit" };

const ROOT = fileURLToPath(new URL("..", import.meta.url));

export interface BenchChild<P extends Protocol> {
  pid: number | undefined;
  request<K extends keyof P & string>(type: K, body: P[K]["body"]): Promise<P[K]["result"]>;
  /** Asks the child to exit; kills it if it has not after 5 s. Safe to call twice. */
  close(): Promise<void>;
}

/** Forks `file` (a module that calls `serveParent`) with tsx, its output on this process's stdout and stderr. */
export function forkChild<P extends Protocol>(file: string, label: string): BenchChild<P> {
  const child: ChildProcess = fork(file, [], {
    cwd: ROOT,
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    pid: child.pid,
    request(type, body) {
      return new Promise((resolve, reject) => {
        const onMessage = (message: Reply) => {
          detach();
          if (message.type === "result") resolve(message.result as P[typeof type]["result"]);
          else reject(new Error(`${label} failed: ${message.message}`));
        };
        const onExit = (code: number | null) => {
          detach();
          reject(new Error(`${label} exited (${code}) before answering`));
        };
        const detach = () => {
          child.off("message", onMessage);
          child.off("exit", onExit);
        };
        child.on("message", onMessage);
        child.once("exit", onExit);
        child.send({ type, body } as ParentMessage<P>);
      });
    },
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        if (child.connected) child.send({ type: "exit" } satisfies ParentMessage<P>);
        const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

/**
 * The child's side: answers each request with its handler until told to exit or the parent goes away. Does
 * nothing when the module was not forked with IPC (imported by a test, say).
 */
export function serveParent<P extends Protocol>(
  handlers: { [K in keyof P & string]: (body: P[K]["body"]) => Promise<P[K]["result"]> },
): void {
  if (!process.send) return;
  const send = (reply: Reply) => process.send?.(reply);
  process.on("message", (message: ParentMessage<P>) => {
    if (message.type === "exit") {
      process.disconnect?.();
      return;
    }
    // (The generic request type does not narrow on `type`: read it as what the parent sent.)
    const request = message as { type: keyof P & string; body: unknown };
    const handler = handlers[request.type] as (body: unknown) => Promise<unknown>;
    handler(request.body).then(
      (result) => send({ type: "result", result }),
      (error: unknown) =>
        send({ type: "error", message: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
    );
  });
  process.on("disconnect", () => process.exit(0));
  // Ctrl-C reaches the whole process group; the parent cleans up, this process just ends.
  process.on("SIGINT", () => process.exit(130));
}
