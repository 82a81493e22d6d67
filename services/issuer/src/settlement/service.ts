/**
 * Settlement files of one issuer: built on demand for any day, and written to `<data dir>/<issuer>/settlements/
 * <YYYY-MM-DD>.csv` once the day is over (UTC), by the daily job (`writeClosedDays`, run at start and on every
 * sweep) or when a closed day is asked for. A day still open is answered but not written: it is not final.
 */
import { existsSync } from "node:fs";
import { mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { IssuerApiError } from "../http/errors.ts";
import type { IssuerCore } from "../issuer-core.ts";
import { settledBetween } from "../operations/store.ts";
import { settlementCsv } from "./csv.ts";

const DAY_MS = 24 * 3600 * 1000;

/** The UTC day `YYYY-MM-DD` as [start, end), or null when it is not a real date. */
export function dayRange(date: string): { from: Date; to: Date } | null {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return null;
  const from = new Date(`${date}T00:00:00.000Z`);
  if (Number.isNaN(from.getTime()) || from.toISOString().slice(0, 10) !== date) return null;
  return { from, to: new Date(from.getTime() + DAY_MS) };
}

export function utcDate(at: Date): string {
  return at.toISOString().slice(0, 10);
}

export class SettlementService {
  constructor(
    private readonly issuer: IssuerCore,
    /** `<data dir>/<issuer>/settlements`. */
    readonly directory: string,
  ) {}

  fileOf(date: string): string {
    return join(this.directory, `${date}.csv`);
  }

  /** The settlement file of `date`; written to the data folder too when the day is over. */
  async settlement(date: string): Promise<{ csv: string; closed: boolean }> {
    const range = dayRange(date);
    if (!range) throw new IssuerApiError("request_invalid", "The settlement date is not a YYYY-MM-DD date.");
    const csv = settlementCsv(date, await settledBetween(this.issuer.db, range.from, range.to));
    const closed = range.to.getTime() <= this.issuer.now().getTime();
    if (closed) await this.write(date, csv);
    return { csv, closed };
  }

  /** The daily job: writes yesterday's file when it is not there yet. Returns the file written, if any. */
  async writeClosedDays(): Promise<string | undefined> {
    const yesterday = utcDate(new Date(this.issuer.now().getTime() - DAY_MS));
    if (existsSync(this.fileOf(yesterday))) return undefined;
    await this.settlement(yesterday);
    return this.fileOf(yesterday);
  }

  private async write(date: string, csv: string): Promise<void> {
    await mkdir(this.directory, { recursive: true });
    // Written whole or not at all: a reader never sees half a file.
    const partial = `${this.fileOf(date)}.partial`;
    await writeFile(partial, csv);
    await rename(partial, this.fileOf(date));
    this.issuer.log.info({ event: "settlement_written", date, file: this.fileOf(date) }, "settlement file written");
  }
}
