/**
 * Preloaded into every service process the benchmarks start (NODE_OPTIONS="--import <this file>", beside
 * event-loop-probe.ts): times each HTTP request the process serves, from Node's `http.server.request.start` to its
 * `http.server.response.finish` (diagnostics_channel, no change to the service), by route — the method and the
 * path with its ids (every segment with an underscore: `pay_…`, `apc_…`, `icr_…`) replaced by `:id`; 2xx only. The parent's `{ type: "mpay-bench-http" }` over the fork's IPC
 * channel answers the times recorded since the last such request (and starts afresh), so a timed run's own
 * requests can be read apart from the setup's.
 *
 * Next to the latency the load generator sees for the same request, it tells how much of it the server spent on it
 * (from the moment Node parsed the request to the moment the answer was handed to the kernel) and how much went to
 * waiting before that: in the kernel, for the event loop, on the other side's CPU.
 */
import dc from "node:diagnostics_channel";
import type { IncomingMessage, ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";

// Self-contained (it runs inside the service): the parent's side, with the message's type, is in pay-servers.ts.
const HTTP_REQUEST = "mpay-bench-http";
const started = new WeakMap<IncomingMessage, number>();
let byRoute = new Map<string, number[]>();

/** `/v1/payer/approval-challenges/apc_123/approve` → `/v1/payer/approval-challenges/:id/approve`. */
function routeOf(method: string | undefined, url: string | undefined): string {
  const path = (url ?? "").split("?")[0] ?? "";
  return `${method ?? "?"} ${path.replace(/\/[^/]*_[^/]*/g, "/:id")}`;
}

if (process.send) {
  dc.subscribe("http.server.request.start", (message) => {
    started.set((message as { request: IncomingMessage }).request, performance.now());
  });
  dc.subscribe("http.server.response.finish", (message) => {
    const { request, response } = message as { request: IncomingMessage; response: ServerResponse };
    const t0 = started.get(request);
    if (t0 === undefined || response.statusCode >= 300) return;
    const route = routeOf(request.method, request.url);
    let times = byRoute.get(route);
    if (!times) byRoute.set(route, (times = []));
    times.push(performance.now() - t0);
  });
  process.on("message", (message: { type?: unknown }) => {
    if (message?.type !== HTTP_REQUEST) return;
    const routes = Object.fromEntries(byRoute);
    byRoute = new Map();
    process.send?.({ type: HTTP_REQUEST, routes });
  });
}
