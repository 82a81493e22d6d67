/** The announcement facts a reader's app renders from: a known kind with params that fit, or null (show the text). */
import { describe, expect, it } from "vitest";
import { announcementOf } from "./announcements.ts";

describe("announcementOf", () => {
  it("gives the kind and its checked facts", () => {
    expect(
      announcementOf({
        kind: "payment_request",
        params: { merchantName: "Ddeok Mall", itemName: "", amount: 35000, currency: "KRW", pairingCode: "K7P2" },
      }),
    ).toEqual({
      kind: "payment_request",
      params: { merchantName: "Ddeok Mall", itemName: "", amount: 35000, currency: "KRW", pairingCode: "K7P2" },
    });
    expect(announcementOf({ kind: "pin_reset_applied", params: {} })).toEqual({
      kind: "pin_reset_applied",
      params: {},
    });
  });

  it("is null for a message without params, a kind it does not know, or facts that do not fit the kind", () => {
    expect(announcementOf({ kind: "device_pending" })).toBeNull();
    expect(announcementOf({ kind: "loyalty_points", params: { points: 3 } })).toBeNull();
    const pending = { deviceName: "Pixel 9", activatesAt: "2026-03-02T14:05:00.000Z" };
    expect(announcementOf({ kind: "device_pending", params: pending })).not.toBeNull();
    for (const params of [
      { ...pending, activatesAt: "tomorrow" },
      { ...pending, deviceName: "x\u202e" },
      { ...pending, extra: 1 },
      { deviceName: "Pixel 9" },
    ])
      expect(announcementOf({ kind: "device_pending", params }), JSON.stringify(params)).toBeNull();
    const card = { brand: "visa", last4: "0012", deviceName: "Pixel 9" };
    expect(announcementOf({ kind: "card_enrolled", params: { ...card, last4: "4111111111111111" } })).toBeNull();
    const request = { merchantName: "M", itemName: "", amount: 100, currency: "KRW", pairingCode: "K7P2" };
    expect(announcementOf({ kind: "payment_request", params: { ...request, currency: "XXX" } })).toBeNull();
    expect(announcementOf({ kind: "payment_request", params: { ...request, amount: 1.5 } })).toBeNull();
    expect(announcementOf({ kind: "payment_request", params: { ...request, amount: 10 ** 12 } })).toBeNull();
  });
});
