/**
 * Read views for the merchant dashboard over the merchant API: a payment's timeline, daily totals and the payments
 * export. A read-only context above payments, refunds, webhooks and the ledger: it calls their services (never
 * their stores), always scoped by the caller's merchant and mode.
 */
import type { Clock } from "@mpay/service-kit";
import type { Executor } from "../db/client.ts";
import { ApiError } from "../http/errors.ts";
import type { LedgerService } from "../ledger/service.ts";
import type { MerchantAuth } from "../merchants/service.ts";
import type { PaymentFilters } from "../payments/list-filters.ts";
import type { PaymentRow, PaymentService } from "../payments/service.ts";
import type { RefundService } from "../refunds/service.ts";
import type { WebhookService } from "../webhooks/service.ts";
import { csvLine } from "./csv.ts";
import { dailyRows, isTimeZone, windowDays, type DailyRow } from "./daily.ts";
import { buildTimeline, type Timeline } from "./timeline.ts";

/** The most rows one export holds; a larger one is cut there and says so (header `mpay-export-truncated`). */
export const MAX_EXPORT_ROWS = 10_000;

export const EXPORT_COLUMNS = [
  "id",
  "createdAt",
  "status",
  "amount",
  "currency",
  "amountCaptured",
  "amountRefunded",
  "captureMethod",
  "orderId",
  "itemName",
  "declineCode",
  "authorizedAt",
  "capturedAt",
  "canceledAt",
] as const;

export interface ReportDependencies {
  db: Executor;
  payments: PaymentService;
  refunds: RefundService;
  webhooks: WebhookService;
  ledger: LedgerService;
  clock: Clock;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export class ReportService {
  constructor(private readonly deps: ReportDependencies) {}

  async timeline(auth: MerchantAuth, paymentId: string): Promise<Timeline> {
    const payment = await this.deps.payments.retrieve(auth, paymentId);
    const [refunds, events] = await Promise.all([
      this.deps.refunds.listForPayment(auth, payment.id),
      this.deps.webhooks.eventsAboutPayment(auth, payment.id),
    ]);
    const deliveries = await this.deps.webhooks.deliveriesOfEvents(
      auth,
      events.map((event) => event.id),
    );
    return buildTimeline(payment, refunds, events, deliveries);
  }

  async daily(
    auth: MerchantAuth,
    query: { days: number; currency: string; timeZone: string },
  ): Promise<{ currency: string; timeZone: string; data: DailyRow[] }> {
    if (!isTimeZone(query.timeZone))
      throw new ApiError("parameter_invalid", "timeZone must be an IANA time zone such as Asia/Seoul.", "timeZone");
    const days = windowDays(this.deps.clock.now(), query.days, query.timeZone);
    const movements = await this.deps.ledger.dailyMovements(this.deps.db, {
      merchantId: auth.merchantId,
      mode: auth.mode,
      currency: query.currency,
      fromDay: days[0]!,
      timeZone: query.timeZone,
    });
    return { currency: query.currency, timeZone: query.timeZone, data: dailyRows(days, movements) };
  }

  /** The payments the list's filters select, newest first, as CSV (header line first). */
  async exportCsv(auth: MerchantAuth, filters: PaymentFilters): Promise<{ csv: string; truncated: boolean }> {
    let csv = csvLine(EXPORT_COLUMNS);
    let rows = 0;
    let startingAfter: string | undefined;
    for (;;) {
      const page = await this.deps.payments.list(auth, {
        ...filters,
        limit: 100,
        ...(startingAfter ? { startingAfter } : {}),
      });
      for (const row of page.rows) {
        if (rows === MAX_EXPORT_ROWS) return { csv, truncated: true };
        csv += csvLine(exportValues(row));
        rows++;
      }
      if (!page.hasMore) return { csv, truncated: false };
      startingAfter = page.rows.at(-1)?.id;
    }
  }
}

function exportValues(row: PaymentRow): Array<string | number | null> {
  return [
    row.id,
    row.createdAt.toISOString(),
    row.status,
    row.amount,
    row.currency,
    row.amountCaptured,
    row.amountRefunded,
    row.captureMethod,
    row.orderId,
    row.itemName,
    row.declineCode,
    iso(row.authorizedAt),
    iso(row.capturedAt),
    iso(row.canceledAt),
  ];
}
