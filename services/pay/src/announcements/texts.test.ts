/** The words and buttons of every announcement kind, and what a device's name may not smuggle into them. */
import { describe, expect, it } from "vitest";
import { announcementOf, officialMessageInputSchema } from "@mpay/protocol";
import type { Announcement, AnnouncementKind } from "./kinds.ts";
import { amountTexts, announcementMessage, deviceLabel } from "./texts.ts";

const at = new Date("2026-03-02T14:05:00.000Z");
const ids = {
  device: "dev_01JTESTDEVICE00000000000AB",
  reset: "prs_01JTESTRESET000000000000AB",
  card: "card_01JTESTCARD0000000000000AB",
  recovery: "dev_01JTESTRECOVERY00000000AB",
};

/** One of each kind; the Record makes the compiler insist on every kind. */
const samples: Record<AnnouncementKind, Announcement> = {
  payment_request: {
    kind: "payment_request",
    paymentId: "pay_01JTESTPAYMENT0000000000AB",
    merchantName: "Seoul Linen Mall",
    itemName: "Linen shirt",
    amount: 35000,
    currency: "KRW",
    pairingCode: "K7P2",
  },
  payment_receipt: {
    kind: "payment_receipt",
    paymentId: "pay_01JTESTPAYMENT0000000000AB",
    merchantName: "Seoul Linen Mall",
    itemName: "Linen shirt",
    amount: 35000,
    currency: "KRW",
    brand: "visa",
    last4: "0012",
  },
  payment_refunded: {
    kind: "payment_refunded",
    paymentId: "pay_01JTESTPAYMENT0000000000AB",
    merchantName: "Seoul Linen Mall",
    amount: 5000,
    currency: "KRW",
    brand: "visa",
    last4: "0012",
  },
  device_pending: { kind: "device_pending", deviceId: ids.device, deviceName: "Pixel 9", activatesAt: at },
  recovery_pending: { kind: "recovery_pending", recoveryId: ids.recovery, deviceName: "Galaxy S25", activatesAt: at },
  recovery_completed: {
    kind: "recovery_completed",
    recoveryId: ids.recovery,
    deviceName: "Galaxy S25",
    revokedDevices: 2,
  },
  pin_reset_pending: { kind: "pin_reset_pending", resetId: ids.reset, activatesAt: at },
  pin_reset_applied: { kind: "pin_reset_applied", resetId: ids.reset },
  pin_changed: { kind: "pin_changed", previousPinUntil: new Date("2026-12-04T09:30:00Z") },
  card_enrolled: { kind: "card_enrolled", cardId: ids.card, brand: "visa", last4: "0012", deviceName: "Pixel 9" },
  device_revoked: { kind: "device_revoked", deviceId: ids.device, deviceName: "Old iPhone" },
  change_canceled: { kind: "change_canceled", changeId: ids.reset, change: "pin_reset" },
};

describe("announcement texts", () => {
  it("gives every kind its text and buttons, each one a message the messenger accepts", () => {
    const expected: Record<AnnouncementKind, { text: RegExp; actions: string[] }> = {
      payment_request: {
        text: /^Seoul Linen Mall에서 "Linen shirt" 35,000원 결제를 요청했습니다\. 확인 코드 K7P2\.\nSeoul Linen Mall asks 35,000원 \(₩35,000\) for "Linen shirt"\. Code K7P2\.$/,
        actions: ["mpay:pay/pay_01JTESTPAYMENT0000000000AB"],
      },
      payment_receipt: {
        text: /^Paid 35,000원 \(₩35,000\) to Seoul Linen Mall for "Linen shirt" with Visa •••• 0012\.$/,
        actions: ["mpay:receipt/pay_01JTESTPAYMENT0000000000AB"],
      },
      payment_refunded: {
        text: /^Seoul Linen Mall refunded 5,000원 \(₩5,000\) to Visa •••• 0012\.$/,
        actions: ["mpay:receipt/pay_01JTESTPAYMENT0000000000AB"],
      },
      device_pending: {
        text: /^A new device, "Pixel 9", was added .* It can pay from 2 Mar 2026, 14:05 UTC\. If this wasn't you, cancel it/,
        actions: [`mpay:cancel-pending-change/${ids.device}`],
      },
      recovery_pending: {
        text: /recovered on a new device, "Galaxy S25"\. At 2 Mar 2026, 14:05 UTC every other device will be signed out/,
        actions: [`mpay:cancel-pending-change/${ids.recovery}`],
      },
      recovery_completed: {
        text: /recovered on "Galaxy S25"\. 2 other devices were signed out and can no longer pay\.$/,
        actions: ["mpay:open/devices"],
      },
      pin_reset_pending: {
        text: /reset of your MPay PIN was requested\. The new PIN takes effect at 2 Mar 2026, 14:05 UTC\./,
        actions: [`mpay:cancel-pending-change/${ids.reset}`],
      },
      pin_reset_applied: { text: /^Your MPay PIN was reset\./, actions: ["mpay:open/devices"] },
      pin_changed: {
        text: /^Your MPay PIN was changed\..*old PIN before 4 Dec 2026, 09:30 UTC/,
        actions: ["mpay:open/devices"],
      },
      card_enrolled: {
        text: /^A Visa card ending in 0012 was added to MPay on "Pixel 9"\./,
        actions: [`mpay:remove-card/${ids.card}`],
      },
      device_revoked: {
        text: /^"Old iPhone" was removed from your MPay account and can no longer pay\.$/,
        actions: ["mpay:open/devices"],
      },
      change_canceled: { text: /^The pending PIN reset was canceled\./, actions: [] },
    };
    for (const [kind, announcement] of Object.entries(samples) as Array<[AnnouncementKind, Announcement]>) {
      const message = announcementMessage(announcement);
      expect(message.text, kind).toMatch(expected[kind].text);
      expect(
        message.actions.map((a) => a.action),
        kind,
      ).toEqual(expected[kind].actions);
      const wire = officialMessageInputSchema.safeParse({
        id: "ann_01JTESTANNOUNCEMENT000000AB",
        to: `acct_${"A".repeat(26)}`,
        kind,
        ...message,
        createdAt: at.toISOString(),
      });
      expect(wire.success, `${kind}: ${JSON.stringify(wire.error?.issues)}`).toBe(true);
      // The facts fit the protocol's schema for the kind, which the messenger app renders from.
      expect(announcementOf({ kind, params: message.params }), kind).toEqual({ kind, params: message.params });
    }
    expect(announcementMessage(samples.device_pending).params).toEqual({
      deviceName: "Pixel 9",
      activatesAt: "2026-03-02T14:05:00.000Z",
    });
    expect(announcementMessage(samples.card_enrolled).params).toEqual({
      brand: "visa",
      last4: "0012",
      deviceName: "Pixel 9",
    });
    expect(announcementMessage(samples.payment_request).params).toEqual({
      merchantName: "Seoul Linen Mall",
      itemName: "Linen shirt",
      amount: 35000,
      currency: "KRW",
      pairingCode: "K7P2",
    });
    expect(announcementMessage({ ...samples.recovery_completed, revokedDevices: 1 } as Announcement).text).toContain(
      "1 other device was signed out",
    );
    expect(announcementMessage({ ...samples.recovery_completed, revokedDevices: 0 } as Announcement).text).toContain(
      "No other device had access.",
    );
  });

  it("shows a device's name as text only: no controls, links or card-like digits, short and quoted", () => {
    expect(deviceLabel("Kim's\u202e phone\u0007")).toBe(`"Kim's phone"`);
    expect(deviceLabel("Cancel at https://mpay-help.example/x now")).toBe(`"Cancel at [link] now"`);
    expect(deviceLabel("visit www.evil.example")).toBe(`"visit [link]"`);
    expect(deviceLabel("4111 1111 1111 1111")).toBe(`"••••"`);
    expect(deviceLabel("call 010-1234-5678")).toBe(`"call ••••"`);
    expect(deviceLabel("iPhone 15")).toBe(`"iPhone 15"`);
    expect(deviceLabel("x".repeat(100))).toBe(`"${"x".repeat(39)}…"`);
    expect(deviceLabel(" \u200b\n ")).toBe("a device with no name");
    const revoked = announcementMessage({ kind: "device_revoked", deviceId: ids.device, deviceName: "" });
    expect(revoked.text).toMatch(/^A device with no name was removed/);
    const card = announcementMessage({ ...samples.card_enrolled, deviceName: "PAN 4111111111111111" } as Announcement);
    expect(card.text).not.toMatch(/\d{5,}/);
    expect(card.params.deviceName).toBe("PAN ••••");
    expect(revoked.params).toEqual({ deviceName: "" });
    const sneaky = announcementMessage({
      ...samples.device_pending,
      deviceName: "Kim's\u202e phone\u0007",
    } as Announcement);
    expect(sneaky.params.deviceName).toBe("Kim's phone");
  });

  it("writes a payment request's amount as readers expect it, and its free text as text only", () => {
    expect(amountTexts(35000, "KRW")).toEqual({ ko: "35,000원", en: "35,000원 (₩35,000)" });
    expect(amountTexts(1050, "USD").en).toBe("$10.50");
    expect(amountTexts(1050, "USD").ko).toContain("10.50");
    expect(amountTexts(500, "JPY").en).toBe("¥500");
    const tricky = announcementMessage({
      ...samples.payment_request,
      merchantName: "Mall\u202e https://evil.example",
      itemName: "Gift card 4111 1111 1111 1111\u0007 — call 010-1234-5678",
    } as Announcement);
    expect(tricky.text).not.toMatch(/https?:|\u202e|\u0007|\d{5,}/);
    expect(tricky.text).toContain('"Gift card •••• — call ••••"');
    expect(tricky.text).toContain("Mall [link] asks 35,000원");
    expect(tricky.params).toMatchObject({ merchantName: "Mall [link]", itemName: "Gift card •••• — call ••••" });
    const noItem = announcementMessage({ ...samples.payment_request, itemName: "\u200b" } as Announcement);
    expect(noItem.text).toMatch(/\nSeoul Linen Mall asks 35,000원 \(₩35,000\)\. Code K7P2\.$/);
  });

  it("refuses facts that do not fit a message before anything is written", () => {
    const bad: Array<[Announcement, RegExp]> = [
      [{ ...samples.card_enrolled, last4: "4111111111111111" } as Announcement, /last4/],
      [{ ...samples.card_enrolled, last4: "12a4" } as Announcement, /last4/],
      [{ ...samples.device_pending, activatesAt: new Date("nonsense") } as Announcement, /valid Date/],
      [{ ...samples.pin_reset_pending, resetId: "123456" } as Announcement, /resetId/],
      [{ ...samples.device_pending, deviceId: "dev_1 mpay:evil" } as Announcement, /deviceId/],
      [{ ...samples.recovery_completed, revokedDevices: -1 } as Announcement, /revokedDevices/],
      [{ ...samples.payment_request, pairingCode: "k7p2" } as Announcement, /pairingCode/],
      [{ ...samples.payment_request, paymentId: "pay_1/../x" } as Announcement, /paymentId/],
      [{ ...samples.payment_request, currency: "XXX" } as Announcement, /currency/],
      [{ ...samples.payment_request, amount: 10.5 } as Announcement, /amount/],
    ];
    for (const [announcement, message] of bad)
      expect(() => announcementMessage(announcement), JSON.stringify(announcement)).toThrow(message);
  });
});
