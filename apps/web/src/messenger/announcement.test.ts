/**
 * MPay's announcements as a reader sees them, in Korean and in English, through a real i18next instance with the
 * app's texts: every kind the pay server sends (one sample per kind, from its facts), the fallback to the text for
 * a message without facts, and labels that follow the button's action.
 */
import i18next from "i18next";
import { beforeAll, describe, expect, it } from "vitest";
import { ANNOUNCEMENT_KINDS, type AnnouncementKindName, type OfficialMessage } from "@mpay/protocol";
import { announcementTexts } from "./announcement-texts.ts";
import { type AnnouncementTranslate, readableMessage } from "./announcement.ts";

const seoul = { timeZone: "Asia/Seoul", now: new Date("2026-12-04T01:00:00Z") };
const i18n = i18next.createInstance();
let t: { ko: AnnouncementTranslate; en: AnnouncementTranslate };

beforeAll(async () => {
  await i18n.init({
    lng: "en",
    fallbackLng: "en",
    ns: ["messenger"],
    defaultNS: "messenger",
    resources: { en: { messenger: announcementTexts.en }, ko: { messenger: announcementTexts.ko } },
    interpolation: { escapeValue: false },
  });
  t = { ko: i18n.getFixedT("ko", "messenger"), en: i18n.getFixedT("en", "messenger") };
});

const message = (kind: string, params: OfficialMessage["params"], actions: OfficialMessage["actions"] = []) => ({
  kind,
  text: "The pay server's plain text.",
  actions,
  params,
});
const read = (lang: "ko" | "en", m: ReturnType<typeof message>) =>
  readableMessage(m, t[lang], lang, seoul).text.replace(/\u202f/g, " ");

const samples: Record<AnnouncementKindName, OfficialMessage["params"]> = {
  payment_request: {
    merchantName: "Ddeok Mall",
    itemName: "Rice cake set",
    amount: 35000,
    currency: "KRW",
    pairingCode: "K7P2",
  },
  payment_receipt: {
    merchantName: "Ddeok Mall",
    itemName: "Rice cake set",
    amount: 35000,
    currency: "KRW",
    brand: "visa",
    last4: "0012",
  },
  payment_refunded: { merchantName: "Ddeok Mall", amount: 5000, currency: "KRW", brand: "mastercard", last4: "0027" },
  device_pending: { deviceName: "Pixel 9", activatesAt: "2026-12-05T06:05:00.000Z" },
  recovery_pending: { deviceName: "Galaxy S25", activatesAt: "2026-12-05T06:05:00.000Z" },
  recovery_completed: { deviceName: "Galaxy S25", revokedDevices: 2 },
  pin_reset_pending: { activatesAt: "2026-12-05T06:05:00.000Z" },
  pin_reset_applied: {},
  pin_changed: { previousPinUntil: "2026-12-05T06:05:00.000Z" },
  card_enrolled: { brand: "visa", last4: "0012", deviceName: "Pixel 9" },
  device_revoked: { deviceName: "" },
  change_canceled: { change: "pin_reset" },
};

describe("MPay's announcements in the messenger", () => {
  it("writes every kind in Korean and in English from its facts", () => {
    const expected: Record<AnnouncementKindName, { ko: string; en: string }> = {
      payment_request: {
        ko: 'Ddeok Mall에서 "Rice cake set" 35,000원 결제를 요청했습니다. 확인 코드 K7P2.',
        en: 'Ddeok Mall asks ₩35,000 for "Rice cake set". Code K7P2.',
      },
      payment_receipt: {
        ko: 'Ddeok Mall에서 "Rice cake set" 35,000원이 결제되었습니다. 결제 카드: 비자 끝자리 0012.',
        en: 'Paid ₩35,000 to Ddeok Mall for "Rice cake set" with your card ending in 0012 (Visa).',
      },
      payment_refunded: {
        ko: "Ddeok Mall에서 5,000원을 환불했습니다. 환불 카드: 마스터카드 끝자리 0027.",
        en: "Ddeok Mall refunded ₩5,000 to your card ending in 0027 (Mastercard).",
      },
      device_pending: {
        ko: 'MPay 계정에 "Pixel 9" 기기가 새로 추가되었습니다. 12월 5일 오후 3:05부터 이 기기로 결제할 수 있습니다. 본인이 아니면 그 전에 취소하세요.',
        en: 'A new device, "Pixel 9", was added to your MPay account. It can pay from Dec 5, 3:05 PM. If this wasn\'t you, cancel it before then.',
      },
      recovery_pending: {
        ko: '"Galaxy S25" 기기에서 MPay 계정 복구가 진행 중입니다. 12월 5일 오후 3:05에 다른 모든 기기가',
        en: 'recovered on a new device, "Galaxy S25". At Dec 5, 3:05 PM every other device',
      },
      recovery_completed: {
        ko: '"Galaxy S25" 기기에서 MPay 계정이 복구되었습니다. 다른 기기 2대가 로그아웃되어 더 이상 결제할 수 없습니다.',
        en: 'Your MPay account was recovered on "Galaxy S25". 2 other devices were signed out and can no longer pay.',
      },
      pin_reset_pending: {
        ko: "새 PIN은 12월 5일 오후 3:05부터 적용됩니다.",
        en: "The new PIN takes effect at Dec 5, 3:05 PM.",
      },
      pin_reset_applied: { ko: "MPay PIN이 재설정되었습니다.", en: "Your MPay PIN was reset." },
      pin_changed: { ko: "본인이 아니면 12월 5일 오후 3:05 전에", en: "your old PIN before Dec 5, 3:05 PM:" },
      card_enrolled: {
        ko: '"Pixel 9" 기기에서 끝자리 0012인 비자 카드가 MPay에 추가되었습니다.',
        en: 'A card ending in 0012 (Visa) was added to MPay on "Pixel 9".',
      },
      device_revoked: {
        ko: "이름 없는 기기가 MPay 계정에서 삭제되어 더 이상 결제할 수 없습니다.",
        en: "A device with no name was removed from your MPay account and can no longer pay.",
      },
      change_canceled: {
        ko: "대기 중이던 PIN 재설정 요청이 취소되었습니다.",
        en: "The pending PIN reset was canceled.",
      },
    };
    expect(Object.keys(samples).sort()).toEqual([...ANNOUNCEMENT_KINDS].sort());
    for (const kind of ANNOUNCEMENT_KINDS) {
      for (const lang of ["ko", "en"] as const) {
        const text = read(lang, message(kind, samples[kind]));
        expect(text, `${kind} ${lang}`).toContain(expected[kind][lang]);
        expect(text, `${kind} ${lang}`).not.toMatch(/\{\{|announcement\.|plain text/);
      }
    }
  });

  it("counts signed-out devices and writes amounts of other currencies as the reader expects", () => {
    const completed = (revokedDevices: number) =>
      message("recovery_completed", { deviceName: "Galaxy S25", revokedDevices });
    expect(read("en", completed(1))).toContain("1 other device was signed out");
    expect(read("en", completed(0))).toContain("No other device had access.");
    expect(read("ko", completed(0))).toContain("다른 기기에는 접근 권한이 없었습니다.");
    const usd = message("payment_request", { ...samples.payment_request, amount: 1050, currency: "USD", itemName: "" });
    expect(read("en", usd)).toBe("Ddeok Mall asks $10.50. Code K7P2.");
    expect(read("ko", { ...usd, params: { ...usd.params, merchantName: "" } })).toMatch(
      /^가맹점에서 US\$10\.50 결제를/,
    );
  });

  it("shows the text of a message without facts, or with facts that do not fit its kind, and of a kind it does not know", () => {
    for (const m of [
      message("device_pending", undefined),
      message("device_pending", { deviceName: "Pixel 9", activatesAt: "soon" }),
      message("loyalty_points", { points: 3 }),
    ])
      expect(read("ko", m)).toBe("The pay server's plain text.");
  });

  it("labels buttons by their action in the reader's language, and keeps an unknown action's own label", () => {
    const actions = [
      { label: "Pay", action: "mpay:pay/pay_test123" },
      { label: "Not me — cancel", action: "mpay:cancel-pending-change/dev_01JTESTDEVICE00000000000AB" },
      { label: "Review devices", action: "mpay:open/devices" },
    ];
    const labels = (lang: "ko" | "en", buttons = actions) =>
      readableMessage(message("pin_reset_applied", undefined, buttons), t[lang], lang).actions.map((a) => a.label);
    expect(labels("ko")).toEqual(["결제하기", "본인 아님 — 취소", "기기 확인"]);
    expect(labels("en")).toEqual(["Pay", "Not me — cancel", "Review devices"]);
    expect(labels("ko", [{ label: "Rate us", action: "mpay:open/rating" }])).toEqual(["Rate us"]);
    expect(readableMessage(message("pin_reset_applied", {}, actions), t.ko, "ko").actions.map((a) => a.action)).toEqual(
      actions.map((a) => a.action),
    );
  });
});
