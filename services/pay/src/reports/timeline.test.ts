import { describe, expect, it } from "vitest";
import { buildTimeline, type TimelinePayment } from "./timeline.ts";
import { dailyRows, windowDays } from "./daily.ts";

const at = (s: string) => new Date(`2026-12-04T${s}Z`);
const payment: TimelinePayment = {
  id: "pay_1",
  status: "declined",
  amount: 1000,
  currency: "KRW",
  amountCaptured: 0,
  declineCode: "insufficient_funds",
  createdAt: at("01:00:00"),
  authorizedAt: null,
  capturedAt: null,
  canceledAt: null,
  updatedAt: at("01:05:00"),
};

describe("a payment's timeline", () => {
  it("takes a declined payment's time from its event, with the decline code", () => {
    const timeline = buildTimeline(
      payment,
      [],
      [{ id: "evt_1", type: "payment.declined", createdAt: at("01:02:00") }],
      [],
    );
    expect(timeline.data).toEqual([
      {
        type: "status",
        at: at("01:00:00").toISOString(),
        status: "requires_approval",
        amount: 1000,
        declineCode: null,
      },
      {
        type: "status",
        at: at("01:02:00").toISOString(),
        status: "declined",
        amount: 1000,
        declineCode: "insufficient_funds",
      },
      { type: "event", at: at("01:02:00").toISOString(), eventId: "evt_1", eventType: "payment.declined" },
    ]);
  });

  it("falls back to the last change when no event reports the final state", () => {
    const timeline = buildTimeline(payment, [], [], []);
    expect(timeline.data.at(-1)).toMatchObject({ status: "declined", at: at("01:05:00").toISOString() });
  });
});

describe("daily rows", () => {
  it("lists every day of the window, today last, across a month's end", () => {
    expect(windowDays(new Date("2026-12-02T10:00:00Z"), 4, "UTC")).toEqual([
      "2026-11-29",
      "2026-11-30",
      "2026-12-01",
      "2026-12-02",
    ]);
    // 20:00 UTC is already the next day in Seoul.
    expect(windowDays(new Date("2026-12-02T20:00:00Z"), 1, "Asia/Seoul")).toEqual(["2026-12-03"]);
  });

  it("adds movements to their day and ignores days outside the window", () => {
    const rows = dailyRows(
      ["2026-12-01", "2026-12-02"],
      [
        { day: "2026-12-02", kind: "authorization", count: 2, amount: 300 },
        { day: "2026-12-02", kind: "capture", count: 1, amount: 200 },
        { day: "2026-12-02", kind: "refund", count: 1, amount: 50 },
        { day: "2026-11-30", kind: "capture", count: 1, amount: 999 },
      ],
    );
    expect(rows).toEqual([
      { date: "2026-12-01", count: 0, authorized: 0, captured: 0, refunded: 0, net: 0 },
      { date: "2026-12-02", count: 2, authorized: 300, captured: 200, refunded: 50, net: 150 },
    ]);
  });
});
