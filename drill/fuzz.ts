/**
 * `npm run drill -- fuzz`: property-based fuzzing of every operation in the pay server's /openapi.json (issue 12).
 * Each case is one request made from the operation's schemas — a body valid as documented or bent, odd path and
 * query parameters, any caller's credential, odd Idempotency-Keys — sent to an in-process pay server, and each
 * answer must pass fuzz-target.ts's checks (no 5xx, the documented error shape, no secret or stack anywhere, a
 * refusal that changed no row). `npm test` runs a few thousand cases (drill/fuzz.test.ts); this runs as many as asked.
 */
import fc from "fast-check";
import { systemBackends } from "@mpay/service-kit/testing";
import {
  bodyOf,
  headerSafe,
  idempotencyKey,
  pathParameter,
  queryOf,
  type JsonSchema,
  type OpenApiDoc,
  type Operation,
  type Parameter,
} from "../services/pay/src/testing/fuzz-arbitraries.ts";
import {
  openFuzzTarget,
  type CallerName,
  type FuzzRequest,
  type FuzzTarget,
} from "../services/pay/src/testing/fuzz-target.ts";
import type { Backend } from "../services/pay/src/testing/databases.ts";
import { parseOptions, UsageError, type Drill } from "./scenario.ts";

function parametersOf(doc: OpenApiDoc, operation: Operation): Parameter[] {
  return (operation.parameters ?? []).map((p) => {
    if ("$ref" in p) {
      const name = p.$ref.replace("#/components/parameters/", "");
      const found = doc.components.parameters?.[name];
      if (!found) throw new Error(`/openapi.json names parameter ${p.$ref} but does not define it`);
      return found;
    }
    return p;
  });
}

/** The caller an operation's security asks for, most of the time; any other caller or a broken header otherwise. */
function authorizationOf(target: FuzzTarget, operation: Operation): fc.Arbitrary<string | undefined> {
  const scheme =
    operation.security === undefined ? "secretKey" : operation.security.length === 0 ? "none" : "payerSession";
  const bearer = (caller: CallerName) => {
    const token = target.credentials[caller];
    return token === null ? undefined : `Bearer ${token}`;
  };
  const callers = Object.keys(target.credentials) as CallerName[];
  return fc.oneof(
    { weight: 6, arbitrary: fc.constant(bearer(scheme)) },
    { weight: 2, arbitrary: fc.constantFrom(...callers).map(bearer) },
    fc.constantFrom(
      "Bearer",
      "Bearer ",
      "Basic dXNlcjpwYXNz",
      `bearer  ${target.credentials.secretKey}`,
      `Bearer ${target.credentials.secretKey} extra`,
      "Bearer sk_test_0000000000000000000000000",
      "Bearer pst_not-a-session",
      "Bearer mds_not-a-session",
      "Bearer sts_not-a-session",
      `Bearer ${"x".repeat(4000)}`,
    ),
    fc.string({ unit: "binary", maxLength: 60 }).map((s) => headerSafe(`Bearer ${s}`)),
  );
}

const contentType = fc.oneof(
  { weight: 8, arbitrary: fc.constant("application/json") },
  fc.constantFrom(
    undefined,
    "text/plain",
    "application/json; charset=utf-16",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/jsonx",
  ),
);

/** A body's text: the value as JSON most of the time, else text no JSON parser takes. */
function payloadOf(body: fc.Arbitrary<unknown>): fc.Arbitrary<string | undefined> {
  return fc.oneof(
    { weight: 8, arbitrary: body.map((value) => JSON.stringify(value) ?? "null") },
    fc.constantFrom(undefined, "", "{", "[1,", "{'a':1}", '{"a":1}{"b":2}', "\ufeff{}", '{"__proto__":{"x":1}}'),
    fc.integer({ min: 16 * 1024 - 16, max: 40 * 1024 }).map((n) => JSON.stringify({ orderId: "x".repeat(n) })),
  );
}

/** Every request the fuzzer can make for one operation. */
function requestsFor(
  target: FuzzTarget,
  path: string,
  method: string,
  operation: Operation,
): fc.Arbitrary<FuzzRequest> {
  const { doc, ids } = target;
  const parameters = parametersOf(doc, operation);
  const pathNames = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] ?? "");
  const realIds = [...(ids[path.includes("/refunds/") ? "rfd" : ""] ?? []), ...Object.values(ids).flat()];
  const schema = operation.requestBody?.content?.["application/json"]?.schema as JsonSchema | undefined;
  const hasBody = method === "post" || method === "delete";
  return fc
    .record({
      params: fc.tuple(...pathNames.map(() => pathParameter(realIds))),
      query: queryOf(
        doc,
        parameters.filter((p) => p.in === "query"),
      ),
      authorization: authorizationOf(target, operation),
      idempotencyKey: method === "post" ? idempotencyKey : fc.constant(undefined),
      contentType: hasBody ? contentType : fc.constant(undefined),
      payload: hasBody ? payloadOf(schema ? bodyOf(doc, schema) : fc.constant({})) : fc.constant(undefined),
      mode: fc.option(fc.constantFrom("test", "live", "both", ""), { freq: 6 }),
    })
    .map((r) => {
      let index = 0;
      const filled = path.replace(/\{[^}]+\}/g, () => r.params[index++] ?? "");
      const headers: Record<string, string> = {};
      if (r.authorization !== undefined) headers["authorization"] = r.authorization;
      if (r.idempotencyKey !== undefined) headers["idempotency-key"] = headerSafe(r.idempotencyKey);
      if (r.contentType !== undefined && r.payload !== undefined) headers["content-type"] = r.contentType;
      if (r.mode !== null) headers["mpay-mode"] = r.mode;
      return {
        operation: `${method.toUpperCase()} ${path}`,
        method: method.toUpperCase(),
        url: r.query ? `${filled}?${r.query}` : filled,
        headers,
        ...(r.payload !== undefined ? { payload: r.payload } : {}),
      };
    });
}

/** One arbitrary over every operation of the document, each as likely as another. */
export function fuzzRequests(target: FuzzTarget): fc.Arbitrary<FuzzRequest> {
  const all = Object.entries(target.doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => requestsFor(target, path, method, operation)),
  );
  if (all.length === 0) throw new Error("/openapi.json lists no operation");
  return fc.oneof(...all);
}

export interface FuzzFailure {
  /** fast-check's run index: `--seed <seed> --path <path>` replays this case. */
  path: string;
  request: FuzzRequest;
  status: number;
  problems: string[];
  answer: string;
}

export interface FuzzSummary {
  seed: number;
  cases: number;
  /** status → how many answers had it. */
  statuses: Record<number, number>;
  failures: FuzzFailure[];
  operations: number;
  /** With `path`: the one case replayed, failed or not. */
  replayed?: { request: FuzzRequest; status: number; answer: string };
}

/**
 * Runs `cases` requests against `target`. Failures are collected, not thrown, so one run reports every distinct
 * problem (the first few of each kind); the server's state is shared across cases, so a replayed case meets the
 * state of its own replay, which is why a failure records the request itself too.
 */
export async function runFuzz(
  target: FuzzTarget,
  options: { cases: number; seed?: number; path?: string; onProgress?: (done: number) => void },
): Promise<FuzzSummary> {
  const seed = options.seed ?? Date.now() ^ (Math.random() * 0x7fffffff);
  const statuses: Record<number, number> = {};
  const failures: FuzzFailure[] = [];
  const seenKinds = new Map<string, number>();
  let run = 0;
  let replayed: FuzzSummary["replayed"];
  const property = fc.asyncProperty(fuzzRequests(target), async (request) => {
    const index = run++;
    const answer = await target.send(request);
    if (options.path !== undefined) replayed = { request, status: answer.status, answer: answer.raw.slice(0, 500) };
    statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
    if (answer.problems.length > 0) {
      const kind = `${request.operation} ${answer.problems.join("; ")}`;
      const count = seenKinds.get(kind) ?? 0;
      seenKinds.set(kind, count + 1);
      if (count < 3)
        failures.push({
          path: options.path ?? String(index),
          request,
          status: answer.status,
          problems: answer.problems,
          answer: answer.raw.slice(0, 500),
        });
    }
    if ((index + 1) % 1000 === 0) options.onProgress?.(index + 1);
  });
  const details = await fc.check(property, {
    seed,
    numRuns: options.cases,
    ...(options.path !== undefined ? { path: options.path } : {}),
  });
  if (details.failed) throw new Error(`the fuzz property itself failed: ${String(details.errorInstance)}`);
  const operations = Object.values(target.doc.paths).reduce((n, methods) => n + Object.keys(methods).length, 0);
  return { seed, cases: run, statuses, failures, operations, ...(replayed ? { replayed } : {}) };
}

/** A request's headers for the report: a credential shows only its kind (`Bearer sk_test_…`), never itself. */
function shownHeaders(headers: Record<string, string>): string {
  const authorization = headers["authorization"];
  const shown =
    authorization === undefined
      ? headers
      : { ...headers, authorization: authorization.replace(/^(\S+ [a-z]{2,3}_(?:test_|live_)?).+$/s, "$1…") };
  return JSON.stringify(shown).slice(0, 300);
}

/** The report's lines for a summary. */
export function describeFuzz(summary: FuzzSummary): string[] {
  const statuses = Object.entries(summary.statuses)
    .map(([status, n]) => `${status}×${n}`)
    .join(" ");
  const lines = [
    `cases: ${summary.cases} over ${summary.operations} operations (seed ${summary.seed})`,
    `distinct statuses: ${Object.keys(summary.statuses).length} — ${statuses}`,
    `failures: ${summary.failures.length}`,
  ];
  const r = summary.replayed;
  if (r)
    lines.push(
      `replayed: ${r.request.method} ${r.request.url.slice(0, 300)} → ${r.status}`,
      `  headers ${shownHeaders(r.request.headers)} body ${JSON.stringify(r.request.payload?.slice(0, 300) ?? null)}`,
      `  answer ${r.answer}`,
    );
  for (const f of summary.failures)
    lines.push(
      `  [--seed ${summary.seed} --path ${f.path}] ${f.request.method} ${f.request.url.slice(0, 200)} → ${f.status}: ${f.problems.join("; ")}`,
      `    headers ${shownHeaders(f.request.headers)} body ${JSON.stringify(f.request.payload?.slice(0, 200) ?? null)}`,
      `    answer ${f.answer.slice(0, 300)}`,
    );
  return lines;
}

export const fuzzDrill: Drill = {
  summary:
    "property-based fuzzing of every /openapi.json operation: no 5xx, documented errors, no leak, no change on refusal",
  usage: [
    "  --cases N     requests to send (default 20000)",
    "  --seed S      fast-check seed (default: random; printed in the report)",
    "  --path P      replay the case at this fast-check path of --seed S (prints it)",
    "  --backend B   pglite or postgres (default: postgres when DATABASE_URL is set, else pglite)",
  ].join("\n"),
  async run(args, progress) {
    const { values, integer, positiveInteger } = parseOptions(args, {
      cases: { type: "string" },
      seed: { type: "string" },
      path: { type: "string" },
      backend: { type: "string" },
    });
    const cases = positiveInteger("cases", 20000);
    const seed = integer("seed", undefined);
    const backend = (values.backend ?? systemBackends()[0]) as Backend;
    if (backend !== "pglite" && backend !== "postgres")
      throw new UsageError(`--backend must be pglite or postgres, not ${values.backend}`);
    progress(`opening the pay server on ${backend}`);
    const target = await openFuzzTarget(backend);
    const started = Date.now();
    try {
      const summary = await runFuzz(target, {
        cases: values.path === undefined ? cases : 1,
        ...(seed !== undefined ? { seed } : {}),
        ...(values.path !== undefined ? { path: values.path } : {}),
        onProgress: (done) => progress(`${done} cases, ${Math.round((Date.now() - started) / 1000)} s`),
      });
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      return {
        ok: summary.failures.length === 0,
        report: [
          `fuzz on ${backend}, ${seconds} s (${(target.digestMs() / 1000).toFixed(1)} s digesting tables)`,
          ...describeFuzz(summary),
        ].join("\n"),
        command: `npm run drill -- fuzz --cases ${cases} --seed ${summary.seed} --backend ${backend}`,
      };
    } finally {
      await target.close();
    }
  },
};
