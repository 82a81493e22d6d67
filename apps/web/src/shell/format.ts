/**
 * How every screen writes amounts and times, in one place and free of side effects (so it is tested in Node).
 *
 * Times follow what Korean messenger users read every day (KakaoTalk): `오후 3:05` in Korean, `3:05 PM` in English
 * — 12-hour with the day period, never mixed with 24-hour on another screen. Dates and times are in the reader's
 * own time zone (the browser's); `timeZone` is there for tests.
 */
export type Language = "ko" | "en";

const LOCALE: Record<Language, string> = { ko: "ko-KR", en: "en-US" };

/** "ko" for any Korean tag, else "en" (the app has these two). */
export function languageOf(tag: string): Language {
  return tag.toLowerCase().startsWith("ko") ? "ko" : "en";
}

/** Amounts as readers expect them: 35,000원 in Korean, ₩35,000 in English (KRW has no minor unit). */
export function formatAmount(amount: number, currency: string, lang: Language): string {
  if (currency === "KRW" && lang === "ko") return `${new Intl.NumberFormat("ko-KR").format(amount)}원`;
  const digits =
    new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2;
  return new Intl.NumberFormat(LOCALE[lang], { style: "currency", currency }).format(amount / 10 ** digits);
}

type When = string | Date;
interface Zone {
  timeZone?: string;
}

const TIME: Intl.DateTimeFormatOptions = { hour: "numeric", minute: "2-digit", hourCycle: "h12" };

function format(when: When, lang: string, options: Intl.DateTimeFormatOptions, zone: Zone): string {
  return new Intl.DateTimeFormat(LOCALE[languageOf(lang)], { ...options, ...zone }).format(new Date(when));
}

/** The hour (0–23) and minute in the zone. */
function clock(when: When, zone: Zone): { hour: number; minute: string } {
  const parts = new Intl.DateTimeFormat("en-US", {
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
    ...zone,
  }).formatToParts(new Date(when));
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? "0";
  return { hour: Number(part("hour")) % 24, minute: part("minute") };
}

function thisYear(when: When, now: Date, zone: Zone): boolean {
  const year = (date: When) => format(date, "en", { year: "numeric" }, zone);
  return year(when) === year(now);
}

/** `오후 3:05` / `3:05 PM`. */
export function formatTime(when: When, lang: string, zone: Zone = {}): string {
  if (languageOf(lang) === "en") return format(when, "en", TIME, zone);
  // Written out: some ICU builds say "PM 3:05" for ko-KR, and Korean readers expect 오전/오후.
  const { hour, minute } = clock(when, zone);
  return `${hour < 12 ? "오전" : "오후"} ${hour % 12 === 0 ? 12 : hour % 12}:${minute}`;
}

/** `12월 4일` / `Dec 4`, with the year when it is not this year's (`2025년 12월 4일` / `Dec 4, 2025`). */
export function formatDate(when: When, lang: string, zone: Zone & { now?: Date } = {}): string {
  const { now = new Date(), ...rest } = zone;
  const options: Intl.DateTimeFormatOptions = { month: "short", day: "numeric" };
  if (!thisYear(when, now, rest)) options.year = "numeric";
  return format(when, lang, options, rest);
}

/** `12월 4일 오후 3:05` / `Dec 4, 3:05 PM` (with the year when it is not this year's): a moment in a sentence. */
export function formatDateTime(when: When, lang: string, zone: Zone & { now?: Date } = {}): string {
  const { now = new Date(), ...rest } = zone;
  if (languageOf(lang) === "ko") return `${formatDate(when, "ko", zone)} ${formatTime(when, "ko", rest)}`;
  const options: Intl.DateTimeFormatOptions = { month: "short", day: "numeric", ...TIME };
  if (!thisYear(when, now, rest)) options.year = "numeric";
  return format(when, "en", options, rest);
}

/** A chat list's or a bubble's time: the time of day for today's, the date for older ones (as KakaoTalk shows them). */
export function formatChatTime(when: When, lang: string, zone: Zone & { now?: Date } = {}): string {
  const { now = new Date(), ...rest } = zone;
  const day = (date: When) => format(date, "en", { year: "numeric", month: "2-digit", day: "2-digit" }, rest);
  return day(when) === day(now) ? formatTime(when, lang, rest) : formatDate(when, lang, { ...rest, now });
}
