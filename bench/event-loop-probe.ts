/**
 * Preloaded into every pay-server process the benchmarks start (NODE_OPTIONS="--import <this file>"): answers
 * the parent's `{ type: "mpay-bench-elu" }` over the fork's IPC channel with the process's cumulative event-loop
 * utilization (`performance.eventLoopUtilization()`: milliseconds the loop was idle, waiting for I/O, and active).
 * The difference of two answers tells how much of a timed run the one JavaScript thread was busy: near 100 %, the
 * process is the bottleneck whatever CPU the machine has left (Node's own measure, unlike a CPU profile, which
 * samples wall time and so counts the time the thread was runnable but not running).
 */
import { performance } from "node:perf_hooks";

// Self-contained (it runs inside the server): the parent's side, with the message's type, is in pay-servers.ts.
const ELU_REQUEST = "mpay-bench-elu";

if (process.send) {
  process.on("message", (message: { type?: unknown }) => {
    if (message?.type !== ELU_REQUEST) return;
    const { idle, active } = performance.eventLoopUtilization();
    process.send?.({ type: ELU_REQUEST, idle, active });
  });
}
