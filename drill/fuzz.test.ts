/**
 * The fuzzer in every `npm test` (issue 12): a few thousand requests made from /openapi.json against the in-process
 * pay server, on each backend. A failure prints the fast-check seed and path; `npm run drill -- fuzz --seed S
 * --path P` replays it, and `npm run drill -- fuzz --cases 200000` runs longer.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testBackends } from "../services/pay/src/testing/databases.ts";
import { openFuzzTarget, type FuzzTarget } from "../services/pay/src/testing/fuzz-target.ts";
import { describeFuzz, runFuzz } from "./fuzz.ts";

const CASES = Number(process.env["MPAY_FUZZ_CASES"] ?? 1500);

describe.each(testBackends())("fuzzing /openapi.json's operations [%s]", (backend) => {
  let target: FuzzTarget;
  beforeAll(async () => {
    target = await openFuzzTarget(backend);
  }, 60_000);
  afterAll(() => target.close());

  it(`answers ${CASES} fuzzed requests without a 5xx, an undocumented error, a leak or a change on refusal`, async () => {
    const summary = await runFuzz(target, { cases: CASES });
    const report = describeFuzz(summary).join("\n");
    expect(summary.failures, report).toEqual([]);
    // The cases reached past the front door: answers of success, refusal and absence all came back.
    expect(summary.cases).toBe(CASES);
    expect(Object.keys(summary.statuses).map(Number)).toEqual(expect.arrayContaining([200, 400, 401, 404]));
  }, 120_000);
});
