/**
 * The pay server as the fuzzer's target (issue 12): one in-process server with a merchant, another merchant, two
 * payers, a support user and a few real objects to aim at; the callers' credentials; and the checks every answer
 * must pass — never a 5xx, every error in the documented `{error:{type,code,message}}` shape, no secret or stack in
 * an answer or a log line, and a refused request (4xx) that changed no row.
 */
import { ERROR_CODES } from "@mpay/protocol";
import { TEST_CARD } from "./cards.ts";
import type { Backend } from "./databases.ts";
import { signedInUser } from "./dashboard-users.ts";
import { authorizeThroughService, call, openTestPay, paymentBody, signedInPayer, type TestPay } from "./system.ts";
import { changedTables, tableDigester, type TableDigest } from "./table-digest.ts";
import type { OpenApiDoc } from "./fuzz-arbitraries.ts";

/** Who sends a request: the header each caller puts in `Authorization` (none for `none`). */
export type CallerName =
  | "secretKey"
  | "publishableKey"
  | "otherMerchantKey"
  | "payerSession"
  | "otherPayerSession"
  | "supportUser"
  | "none";

export interface FuzzRequest {
  /** `METHOD /openapi/path`, the operation the request was made for. */
  operation: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string;
}

export interface FuzzAnswer {
  status: number;
  raw: string;
  /** What broke, empty when the answer passed every check. */
  problems: string[];
}

export interface FuzzTarget {
  pay: TestPay;
  doc: OpenApiDoc;
  credentials: Record<CallerName, string | null>;
  /** Real ids by prefix (`pay`, `rfd`, `we`, `evt`): a request aimed at them reaches past the 404. */
  ids: Record<string, string[]>;
  send(request: FuzzRequest): Promise<FuzzAnswer>;
  /** Time spent digesting tables so far. */
  digestMs(): number;
  close(): Promise<void>;
}

/**
 * The target runs without a messenger or a card issuer to call (they are processes of their own, tested in e2e/):
 * their documented 503s are the right answer here, not a failure.
 */
const ABSENT_DEPENDENCY = /"code":"(messenger_unavailable|issuer_unavailable)"/;
const STACK_FRAME = /\bat [^\s()]+ \([^)]*:\d+:\d+\)|\n\s+at \S|node_modules|\.ts:\d+:\d+/;
const SECRET_KEY = /\b[sr]k_(test|live)_[0-9A-Za-z]{8,}/;

/** What an error answer must look like: the `Error` schema of /openapi.json, with a code of its type. */
function errorShapeProblem(raw: string): string | null {
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    return "error answer is not JSON";
  }
  const error = (body as { error?: unknown } | null)?.error as Record<string, unknown> | undefined;
  if (!error || typeof error !== "object" || Object.keys(body as object).length !== 1)
    return "error answer is not {error:{…}}";
  const extra = Object.keys(error).filter((k) => !["type", "code", "message", "param", "requestId"].includes(k));
  if (extra.length > 0) return `error answer has undocumented fields ${extra.join(",")}`;
  const { type, code, message } = error;
  if (typeof code !== "string" || !(code in ERROR_CODES)) return `error code ${String(code)} is not documented`;
  if (type !== ERROR_CODES[code as keyof typeof ERROR_CODES])
    return `error type ${String(type)} does not go with ${code}`;
  if (typeof message !== "string" || message.length === 0) return "error answer has no message";
  return null;
}

export async function openFuzzTarget(backend: Backend): Promise<FuzzTarget> {
  // No rate limit in reach: the fuzzer's thousands of requests a minute would otherwise test only the 429.
  const pay = await openTestPay(backend, { rateLimitPerMinute: 100_000_000 });
  const other = await pay.createMerchant("Other Shop");
  const [payer, otherPayer, support] = await Promise.all([
    signedInPayer(pay.system, "Fuzz Payer"),
    signedInPayer(pay.system, "Other Payer"),
    signedInUser(pay, pay.merchant.id, "support"),
  ]);
  const credentials: Record<CallerName, string | null> = {
    secretKey: pay.merchant.secretKey,
    publishableKey: pay.merchant.publishableKey,
    otherMerchantKey: other.secretKey,
    payerSession: payer.token,
    otherPayerSession: otherPayer.token,
    supportUser: support.token,
    none: null,
  };
  const key = pay.merchant.secretKey;
  const created = await call<{ id: string }>(pay.app, "POST", "/v1/payments", key, paymentBody());
  const captured = await call<{ id: string }>(pay.app, "POST", "/v1/payments", key, paymentBody({ orderId: "o-2" }));
  await authorizeThroughService(pay.system, captured.body.id);
  await call(pay.app, "POST", `/v1/payments/${captured.body.id}/capture`, key, {});
  const refund = await call<{ id: string }>(pay.app, "POST", `/v1/payments/${captured.body.id}/refunds`, key, {
    amount: 1000,
  });
  const endpoint = await call<{ id: string }>(pay.app, "POST", "/v1/webhook-endpoints", key, {
    url: "http://127.0.0.1:9/hook",
  });
  const events = await call<{ data: Array<{ id: string }> }>(pay.app, "GET", "/v1/events?limit=3", key);
  const ids: Record<string, string[]> = {
    pay: [created.body.id, captured.body.id],
    rfd: [refund.body.id],
    we: [endpoint.body.id],
    evt: events.body.data.map((e) => e.id),
  };
  for (const [kind, list] of Object.entries(ids))
    if (list.some((id) => typeof id !== "string")) throw new Error(`fuzz target setup made no ${kind} id`);
  // The OPAQUE server setup is made at the first PIN message the server reads, refused or not: made here, before
  // the baseline, so the fuzzer sees only what its own requests change.
  await call(pay.app, "POST", "/v1/payer/pin/registration", payer.token, { registrationRequest: "-_" });
  const doc = (await call<OpenApiDoc>(pay.app, "GET", "/openapi.json", null)).body;

  const secrets = [pay.merchant.secretKey, other.secretKey, pay.merchant.webhookSecret, other.webhookSecret];
  secrets.push(payer.token, otherPayer.token, support.token, support.password, support.totpSecret, TEST_CARD.pan);
  const digest = await tableDigester(pay.system.database.db);
  let baseline: TableDigest = await digest();
  let logsSeen = pay.logLines.length;
  let digestMs = 0;

  // A rolled secret key stops working at once: the fuzzer's later requests carry the key that replaced it.
  const rolled = new Map<string, string>();
  const current = (authorization: string | undefined) => {
    const token = authorization?.replace(/^Bearer /, "");
    const replaced = token === undefined ? undefined : rolled.get(token);
    return replaced === undefined ? authorization : `Bearer ${replaced}`;
  };

  const send = async (request: FuzzRequest): Promise<FuzzAnswer> => {
    const authorization = current(request.headers["authorization"]);
    const headers = { ...request.headers, ...(authorization !== undefined ? { authorization } : {}) };
    const response = await pay.app.inject({
      method: request.method as "GET",
      url: request.url,
      headers,
      ...(request.payload !== undefined ? { payload: request.payload } : {}),
    });
    const status = response.statusCode;
    const raw = response.body;
    const problems: string[] = [];
    if (status >= 500 && !(status === 503 && ABSENT_DEPENDENCY.test(raw))) problems.push(`answered ${status}`);
    if (status >= 400) {
      const shape = errorShapeProblem(raw);
      if (shape) problems.push(shape);
      if (SECRET_KEY.test(raw)) problems.push("error answer carries an API key");
    }
    if (STACK_FRAME.test(raw)) problems.push("answer carries a stack frame or source path");
    for (const secret of secrets) if (raw.includes(secret)) problems.push("answer carries a known secret");
    const lines = pay.logLines.slice(logsSeen);
    logsSeen = pay.logLines.length;
    for (const line of lines) {
      if (SECRET_KEY.test(line) || secrets.some((s) => line.includes(s))) problems.push("a log line carries a secret");
      if (/"level":50/.test(line)) problems.push("the server logged an error");
    }
    const digestStarted = performance.now();
    if (request.operation === "POST /v1/api-keys/roll" && status === 200 && authorization !== undefined) {
      const fresh = (JSON.parse(raw) as { secretKey: string }).secretKey;
      const previous = authorization.replace(/^Bearer /, "");
      for (const [original, now] of rolled) if (now === previous) rolled.set(original, fresh);
      rolled.set(previous, fresh);
      secrets.push(fresh);
    }
    const after = await digest(baseline);
    digestMs += performance.now() - digestStarted;
    if (status >= 400 && status < 500) {
      const changed = changedTables(baseline, after);
      if (changed.length > 0) problems.push(`refused with ${status} but changed ${changed.join(", ")}`);
    }
    baseline = after;
    return { status, raw, problems };
  };

  return { pay, doc, credentials, ids, send, digestMs: () => digestMs, close: () => pay.close() };
}
