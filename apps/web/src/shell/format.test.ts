/** Amounts and times as every screen writes them: 오후 3:05 / 3:05 PM, in the reader's zone (Seoul here). */
import { describe, expect, it } from "vitest";
import { formatAmount, formatChatTime, formatDate, formatDateTime, formatTime, languageOf } from "./format.ts";

const seoul = { timeZone: "Asia/Seoul", now: new Date("2026-12-04T01:00:00Z") };
// Intl puts a narrow no-break space before AM/PM: the period stays with its time.
const plain = (text: string) => text.replace(/\u202f/g, " ");

describe("times", () => {
  it("are 12-hour with 오전/오후 in Korean and AM/PM in English", () => {
    expect(formatTime("2026-12-04T06:05:00Z", "ko", seoul)).toBe("오후 3:05");
    expect(formatTime("2026-12-03T15:05:00Z", "ko", seoul)).toBe("오전 12:05");
    expect(formatTime("2026-12-04T03:00:00Z", "ko", seoul)).toBe("오후 12:00");
    expect(formatTime("2026-12-03T23:59:00Z", "ko-KR", seoul)).toBe("오전 8:59");
    expect(plain(formatTime("2026-12-04T06:05:00Z", "en", seoul))).toBe("3:05 PM");
    expect(plain(formatTime("2026-12-03T15:05:00Z", "en-GB", seoul))).toBe("12:05 AM");
  });

  it("are the reader's zone's", () => {
    expect(formatTime("2026-12-04T06:05:00Z", "ko", { timeZone: "UTC" })).toBe("오전 6:05");
    expect(plain(formatTime("2026-12-04T06:05:00Z", "en", { timeZone: "America/New_York" }))).toBe("1:05 AM");
  });

  it("write a moment with its date, and the year only when it is not this year's", () => {
    expect(formatDateTime("2026-12-04T06:05:00Z", "ko", seoul)).toBe("12월 4일 오후 3:05");
    expect(plain(formatDateTime("2026-12-04T06:05:00Z", "en", seoul))).toBe("Dec 4, 3:05 PM");
    expect(formatDateTime("2025-12-04T15:05:00Z", "ko", seoul)).toBe("2025년 12월 5일 오전 12:05");
    expect(plain(formatDateTime("2025-12-04T15:05:00Z", "en", seoul))).toBe("Dec 5, 2025, 12:05 AM");
    expect(formatDate("2026-03-02T14:05:00Z", "ko", seoul)).toBe("3월 2일");
    expect(formatDate("2026-03-02T14:05:00Z", "en", seoul)).toBe("Mar 2");
  });

  it("show today's chat by its time and an older one by its date, the day being the reader's", () => {
    expect(formatChatTime("2026-12-04T06:05:00Z", "ko", seoul)).toBe("오후 3:05");
    expect(formatChatTime("2026-12-03T14:59:00Z", "ko", seoul)).toBe("12월 3일");
    // 15:05 UTC on the 3rd is already the 4th in Seoul.
    expect(formatChatTime("2026-12-03T15:05:00Z", "ko", seoul)).toBe("오전 12:05");
    expect(formatChatTime("2026-12-02T06:05:00Z", "en", seoul)).toBe("Dec 2");
  });
});

describe("amounts", () => {
  it("are 35,000원 in Korean and ₩35,000 in English, from minor units", () => {
    expect(formatAmount(35000, "KRW", "ko")).toBe("35,000원");
    expect(formatAmount(35000, "KRW", "en")).toBe("₩35,000");
    expect(formatAmount(1050, "USD", "en")).toBe("$10.50");
  });

  it("take the language from a tag", () => {
    expect([languageOf("ko-KR"), languageOf("ko"), languageOf("en-US"), languageOf("fr")]).toEqual([
      "ko",
      "ko",
      "en",
      "en",
    ]);
  });
});
