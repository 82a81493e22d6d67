/**
 * Daily totals (the dashboard's overview chart): the ledger's postings per day, every day of the window present
 * (a day without payments is a row of zeros, so a chart has no gaps). Pure; days are `YYYY-MM-DD` in the report's
 * time zone.
 */
import { z } from "zod";

export const dailyRowSchema = z.object({
  date: z.string().describe("YYYY-MM-DD in the report's time zone"),
  count: z.number().int().describe("Payments authorized that day"),
  authorized: z.number().int().describe("Money held by authorizations that day (minor units)"),
  captured: z.number().int().describe("Money captured that day"),
  refunded: z.number().int().describe("Money refunded that day"),
  net: z.number().int().describe("captured − refunded"),
});

export const dailyReportSchema = z.object({
  object: z.literal("daily_report"),
  livemode: z.boolean(),
  currency: z.string(),
  timeZone: z.string(),
  data: z.array(dailyRowSchema).describe("One row per day, oldest first, today last"),
});

export type DailyRow = z.infer<typeof dailyRowSchema>;

export interface Movement {
  day: string;
  kind: "authorization" | "capture" | "refund";
  count: number;
  amount: number;
}

/** `YYYY-MM-DD` of `when` in `timeZone`. */
export function dayIn(when: Date, timeZone: string): string {
  return new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).format(when);
}

/** The `days` calendar days that end with today (in `timeZone`), oldest first. */
export function windowDays(now: Date, days: number, timeZone: string): string[] {
  const today = dayIn(now, timeZone);
  const [y, m, d] = today.split("-").map(Number) as [number, number, number];
  const out: string[] = [];
  for (let back = days - 1; back >= 0; back--)
    out.push(new Date(Date.UTC(y, m - 1, d - back)).toISOString().slice(0, 10));
  return out;
}

export function dailyRows(days: readonly string[], movements: readonly Movement[]): DailyRow[] {
  const byDay = new Map<string, DailyRow>(
    days.map((date) => [date, { date, count: 0, authorized: 0, captured: 0, refunded: 0, net: 0 }]),
  );
  for (const m of movements) {
    const row = byDay.get(m.day);
    if (!row) continue;
    if (m.kind === "authorization") {
      row.count += m.count;
      row.authorized += m.amount;
    } else if (m.kind === "capture") row.captured += m.amount;
    else row.refunded += m.amount;
  }
  for (const row of byDay.values()) row.net = row.captured - row.refunded;
  return [...byDay.values()];
}

/** An IANA time zone this runtime knows (Asia/Seoul, UTC), or false. */
export function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: value });
    return true;
  } catch {
    return false;
  }
}
