import { describe, expect, it } from "vitest";
import {
  amountInput,
  can,
  currentCursor,
  dayStart,
  displayStatus,
  endpointNotice,
  filterQuery,
  filtersInvalid,
  firstPage,
  nextPage,
  niceMax,
  pageNumber,
  parseAmount,
  paymentActions,
  previousPage,
  safeDashboardPath,
  signInRefusal,
} from "./model.ts";

describe("roles", () => {
  it("lets support read only, a developer act on payments and keys, the owner manage the team", () => {
    expect(can("support", "refund")).toBe(false);
    expect(can("support", "rollKey")).toBe(false);
    expect(can("developer", "refund")).toBe(true);
    expect(can("developer", "manageTeam")).toBe(false);
    expect(can("owner", "manageTeam")).toBe(true);
    expect(can("owner", "capture")).toBe(true);
  });
});

describe("payment actions", () => {
  it("follow the state machine", () => {
    expect(paymentActions({ status: "requires_approval", amountRefundable: 0 })).toEqual(["cancel"]);
    expect(paymentActions({ status: "authorized", amountRefundable: 0 })).toEqual(["capture", "cancel"]);
    expect(paymentActions({ status: "captured", amountRefundable: 100 })).toEqual(["refund"]);
    expect(paymentActions({ status: "captured", amountRefundable: 0 })).toEqual([]);
    expect(paymentActions({ status: "declined", amountRefundable: 0 })).toEqual([]);
  });
});

describe("amounts typed by people", () => {
  it("reads major units in the currency's precision, never above the limit", () => {
    expect(parseAmount("12,000", "KRW", 35000)).toEqual({ ok: true, amount: 12000 });
    expect(parseAmount(" 35000 ", "KRW", 35000)).toEqual({ ok: true, amount: 35000 });
    expect(parseAmount("35001", "KRW", 35000)).toEqual({ ok: false, reason: "too_large" });
    expect(parseAmount("10.5", "USD", 5000)).toEqual({ ok: true, amount: 1050 });
    expect(parseAmount("10.50", "USD", 5000)).toEqual({ ok: true, amount: 1050 });
    expect(parseAmount("10.505", "USD", 5000)).toEqual({ ok: false, reason: "too_precise" });
    expect(parseAmount("1.5", "KRW", 5000)).toEqual({ ok: false, reason: "too_precise" });
    expect(parseAmount("1.0", "KRW", 5000)).toEqual({ ok: true, amount: 1 });
    expect(parseAmount("", "KRW", 5000)).toEqual({ ok: false, reason: "empty" });
    expect(parseAmount("0", "KRW", 5000)).toEqual({ ok: false, reason: "zero" });
    for (const bad of ["-5", "1e3", "abc", "0x10", "1.2.3"])
      expect(parseAmount(bad, "KRW", 5000), bad).toEqual({ ok: false, reason: "invalid" });
    expect(parseAmount("99999999999999999999", "KRW", Number.MAX_SAFE_INTEGER)).toEqual({
      ok: false,
      reason: "too_large",
    });
  });

  it("writes minor units back for a field", () => {
    expect(amountInput(35000, "KRW")).toBe("35000");
    expect(amountInput(1050, "USD")).toBe("10.50");
  });
});

describe("list queries", () => {
  it("sends only the filters set, with the date range as instants and the end day included", () => {
    expect(filterQuery({ q: "", status: "", from: "", to: "" }).toString()).toBe("");
    const query = filterQuery({ q: "  scarf ", status: "captured", from: "2026-12-01", to: "2026-12-03" });
    expect(query.get("q")).toBe("scarf");
    expect(query.get("status")).toBe("captured");
    expect(query.get("createdFrom")).toBe(new Date(2026, 11, 1).toISOString());
    expect(query.get("createdTo")).toBe(new Date(2026, 11, 4).toISOString());
    expect(dayStart("2026-12-31", 1)).toBe(new Date(2027, 0, 1).toISOString());
    expect(dayStart("yesterday")).toBeNull();
    expect(filtersInvalid({ q: "", status: "", from: "2026-12-03", to: "2026-12-01" })).toBe(true);
    expect(filtersInvalid({ q: "", status: "", from: "2026-12-03", to: "2026-12-03" })).toBe(false);
  });

  it("pages forward by the last id and back by the cursors seen", () => {
    let pager = firstPage();
    expect(currentCursor(pager)).toBeUndefined();
    pager = nextPage(pager, "pay_B");
    pager = nextPage(pager, "pay_C");
    expect([currentCursor(pager), pageNumber(pager)]).toEqual(["pay_C", 3]);
    pager = previousPage(pager);
    expect(currentCursor(pager)).toBe("pay_B");
    expect(previousPage(previousPage(pager))).toEqual(firstPage());
  });
});

describe("the chart's scale", () => {
  it("rounds up to 1, 2 or 5 times a power of ten", () => {
    expect(niceMax(0)).toBe(1);
    expect(niceMax(7)).toBe(10);
    expect(niceMax(35000)).toBe(50000);
    expect(niceMax(120000)).toBe(200000);
    expect(niceMax(100)).toBe(100);
  });
});

describe("return paths", () => {
  it("keeps dashboard paths only", () => {
    expect(safeDashboardPath("/dashboard/payments/pay_01ABC")).toBe("/dashboard/payments/pay_01ABC");
    expect(safeDashboardPath("https://evil.example")).toBe("/dashboard/payments");
    expect(safeDashboardPath("//evil.example/dashboard/x")).toBe("/dashboard/payments");
    expect(safeDashboardPath(null)).toBe("/dashboard/payments");
  });
});

describe("displayStatus", () => {
  it("says refunded in part or in whole for a captured payment, and the state otherwise", () => {
    const captured = { status: "captured", amountCaptured: 53000, amountRefunded: 0 };
    expect(displayStatus(captured)).toBe("captured");
    expect(displayStatus({ ...captured, amountRefunded: 18000 })).toBe("partially_refunded");
    expect(displayStatus({ ...captured, amountRefunded: 53000 })).toBe("refunded");
    expect(displayStatus({ status: "authorized", amountCaptured: 0, amountRefunded: 0 })).toBe("authorized");
  });
});

describe("signInRefusal", () => {
  it("gives each refusal of the pay server's sign-in routes its own text, the expired challenge by its real code", () => {
    expect(signInRefusal("sign_in_failed")).toBe("failed");
    expect(signInRefusal("sign_in_locked")).toBe("locked");
    expect(signInRefusal("totp_invalid")).toBe("codeWrong");
    // The code both services answer (merchant-users/service.ts, staff/service.ts); the dashboard once waited for
    // `challenge_invalid`, which never comes, and showed the general error instead of starting again.
    expect(signInRefusal("sign_in_challenge_invalid")).toBe("challengeExpired");
    expect(signInRefusal("challenge_invalid")).toBeUndefined();
  });

  it("says a canceled passkey prompt is canceled, and leaves anything else to the general wording", () => {
    expect(signInRefusal(undefined, "NotAllowedError")).toBe("passkeyCanceled");
    expect(signInRefusal("rate_limited")).toBeUndefined();
    expect(signInRefusal(undefined, "TypeError")).toBeUndefined();
  });
});

describe("endpointNotice", () => {
  const disabledAt = "2026-03-04T10:00:00.000Z";
  const failingSince = "2026-03-01T09:30:00.000Z";

  it("says when MPay disabled a failing endpoint and since when it failed", () => {
    expect(endpointNotice({ status: "disabled", disabledReason: "auto_disabled", disabledAt, failingSince })).toEqual({
      kind: "autoDisabled",
      disabledAt,
      failingSince,
    });
  });

  it("warns about an enabled endpoint that is failing, and says nothing about a healthy or merchant-disabled one", () => {
    expect(endpointNotice({ status: "enabled", failingSince })).toEqual({ kind: "failing", failingSince });
    expect(endpointNotice({ status: "enabled", failingSince: null })).toBeNull();
    expect(endpointNotice({ status: "disabled", disabledReason: "merchant", disabledAt })).toBeNull();
    // An older server answers none of the fields: no notice rather than a wrong one.
    expect(endpointNotice({ status: "disabled" })).toBeNull();
  });
});
