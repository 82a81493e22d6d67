import { describe, expect, it } from "vitest";
import { checksPass, stepReports, type PayChecks } from "./pay-report.ts";

describe("stepReports", () => {
  it("gives each step its share of the path, device side and requests, with the servers' own times", () => {
    const { steps, unaccountedShare } = stepReports(
      {
        opMs: [100, 100],
        requestMs: { challenge: [10, 10], "login-start": [20, 20], approve: [30, 30], authorize: [30, 30] },
        deviceMs: { "device-prepare": [2, 2], "device-opaque-finish": [3, 3], "device-jwe": [4, 4] },
      },
      { "POST /v1/payer/approvals/:id/authorize": [25, 27], "POST /v1/payer/pin/login": [15] },
      { "POST /issuers/sampo/authorizations": [9], "POST /issuers/kstar/authorizations": [11], "GET /issuers": [1] },
    );
    expect(steps.map((s) => [s.step, s.side, s.share])).toEqual([
      ["challenge", "server", 0.1],
      ["device-prepare", "device", 0.02],
      ["login-start", "server", 0.2],
      ["device-opaque-finish", "device", 0.03],
      ["approve", "server", 0.3],
      ["device-jwe", "device", 0.04],
      ["authorize", "server", 0.3],
    ]);
    expect(unaccountedShare).toBeCloseTo(0.01);
    const authorize = steps.find((s) => s.step === "authorize");
    expect(authorize?.inPayServerMs).toMatchObject({ count: 2, p50: 25 });
    expect(authorize?.atIssuerMs).toMatchObject({ count: 2, p50: 9, max: 11 });
    expect(steps.find((s) => s.step === "login-start")?.inPayServerMs?.p50).toBe(15);
    expect(steps.find((s) => s.step === "challenge")?.inPayServerMs).toBeNull();
    expect(steps.find((s) => s.step === "device-jwe")?.atIssuerMs).toBeNull();
  });
});

describe("checksPass", () => {
  const good: PayChecks = {
    authorizedAnswered: 10,
    authorizedInPayDb: 10,
    authorizedUnanswered: 0,
    declinedInPayDb: 0,
    issuerOperationsPending: 0,
    announcementsDelivered: 10,
    announcementsUndelivered: 0,
    approvedAtIssuer: 10,
    declinedAtIssuer: 0,
    issuerBooksBalanced: true,
    issuerImbalances: 0,
    ledger: { ok: true, transactions: 10, entries: 20, problems: 0 },
  };

  it("passes only when both databases agree with every answer", () => {
    expect(checksPass(good)).toBe(true);
    expect(checksPass({ ...good, approvedAtIssuer: 9 })).toBe(false);
    expect(checksPass({ ...good, authorizedInPayDb: 9 })).toBe(false);
    expect(checksPass({ ...good, authorizedUnanswered: 1 })).toBe(false);
    expect(checksPass({ ...good, declinedAtIssuer: 1 })).toBe(false);
    expect(checksPass({ ...good, issuerOperationsPending: 1 })).toBe(false);
    expect(checksPass({ ...good, issuerBooksBalanced: false })).toBe(false);
    expect(checksPass({ ...good, ledger: { ...good.ledger, ok: false } })).toBe(false);
  });
});
