/**
 * Fault points for the crash drill (issue 12, "The window between commit and answer"): named places around every
 * commit that talks to someone (the merchant, the payer's device, the issuer, a webhook endpoint) where a drill can
 * make the pay server die, as the issuer simulator's ISSUER_TEST_KILL_AFTER_COMMIT does. A point does nothing
 * unless the process was started with `PAY_TEST_FAULTS=<point>[@<n>][,…]` outside NODE_ENV=production; an armed
 * point kills the process with SIGKILL on its n-th pass (the first by default), so nothing after it runs: no
 * rollback, no answer, no flush — exactly a crash.
 *
 * Infrastructure: it knows the points' names, not the contexts that pass them.
 */
import { writeSync } from "node:fs";
import { ConfigError } from "@mpay/service-kit";

/**
 * Every point, a stable name the drill enumerates (drill/crash.ts). `before-issuer`: the request to the issuer is
 * not sent yet; `after-issuer`: the issuer answered, nothing of its answer is committed here; `after-commit`: the
 * change is committed, its answer not sent. `merchant.answer.after-commit`: a capture, cancel or refund and its
 * Idempotency-Key's answer are committed, the answer not sent (the merchant's retry must get the same answer).
 */
export const FAULT_POINTS = [
  "payment.create.after-commit",
  "approval.release.before-commit",
  "approval.release.after-commit",
  "authorization.before-issuer",
  "authorization.after-issuer",
  "authorization.after-commit",
  "capture.before-issuer",
  "capture.after-issuer",
  "void.before-issuer",
  "void.after-issuer",
  "refund.before-issuer",
  "refund.after-issuer",
  "merchant.answer.after-commit",
  "webhook.before-send",
  "webhook.after-send",
  "webhook.after-commit",
  "reconciler.before-issuer",
  "reconciler.after-issuer",
  "reconciler.after-commit",
] as const;

export type FaultPoint = (typeof FAULT_POINTS)[number];

export const FAULTS_VARIABLE = "PAY_TEST_FAULTS";

/** Per armed point, how many passes are left before it kills the process. */
export type FaultPlan = Map<FaultPoint, number>;

function isFaultPoint(name: string): name is FaultPoint {
  return (FAULT_POINTS as readonly string[]).includes(name);
}

/**
 * The points `PAY_TEST_FAULTS` arms; null when it is unset. Throws a ConfigError for an unknown point or count,
 * and with NODE_ENV=production: a production server must never be able to kill itself on purpose.
 */
export function faultPlanFromEnv(env: NodeJS.ProcessEnv): FaultPlan | null {
  const raw = env[FAULTS_VARIABLE]?.trim();
  if (!raw) return null;
  if (env["NODE_ENV"] === "production")
    throw new ConfigError(
      FAULTS_VARIABLE,
      `${FAULTS_VARIABLE} kills the server on purpose and is for crash drills only; it is refused with NODE_ENV=production`,
    );
  const plan: FaultPlan = new Map();
  for (const item of raw.split(",")) {
    const [name = "", count = "1"] = item.trim().split("@");
    if (!isFaultPoint(name))
      throw new ConfigError(
        FAULTS_VARIABLE,
        `${FAULTS_VARIABLE}: unknown fault point ${JSON.stringify(name)}; the points are ${FAULT_POINTS.join(", ")}`,
      );
    const passes = Number(count);
    if (!Number.isSafeInteger(passes) || passes < 1)
      throw new ConfigError(
        FAULTS_VARIABLE,
        `${FAULTS_VARIABLE}: ${JSON.stringify(item)} must be <point> or <point>@<n> with n ≥ 1`,
      );
    plan.set(name, passes);
  }
  return plan;
}

/** Read once, on the first pass of any point; loadConfig has already refused a bad or production value. */
let plan: FaultPlan | null | undefined;

function armed(): FaultPlan | null {
  if (plan === undefined) {
    try {
      plan = faultPlanFromEnv(process.env);
    } catch {
      plan = null;
    }
  }
  return plan;
}

/** A crash here when the drill armed this point (its n-th pass); nothing otherwise. */
export function faultPoint(name: FaultPoint): void {
  const points = armed();
  const left = points?.get(name);
  if (left === undefined || !points) return;
  if (left > 1) {
    points.set(name, left - 1);
    return;
  }
  // Synchronous, so the drill can tell which point it was even though nothing else gets flushed.
  writeSync(2, `${FAULTS_VARIABLE}: dying at ${name}\n`);
  process.kill(process.pid, "SIGKILL");
}

/**
 * The merchant's capture, cancel or refund and its answer are committed, the answer not sent: the routes hand this
 * to answerIdempotent as its `committed` hook (infrastructure does not know the points).
 */
export function merchantAnswerCommitted(): void {
  faultPoint("merchant.answer.after-commit");
}
