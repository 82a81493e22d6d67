/**
 * The daily settlement file: every capture and refund an issuer processed on one UTC day, grouped per merchant,
 * with a total per merchant and currency and a total for the file. One CSV (RFC 4180) with a record type in the
 * first column, the way card networks' clearing files carry header, detail and trailer records:
 *
 *   record_type,settlement_date,merchant_id,merchant_name,payment_id,operation_id,operation,authorization_code,currency,captured,refunded,net,processed_at
 *   detail,2026-11-29,mch_…,Demo Mall,pay_…,iop_…,capture,K3X9QA,KRW,35000,0,35000,2026-11-29T10:00:00.000Z
 *   detail,2026-11-29,mch_…,Demo Mall,pay_…,iop_…,refund,K3X9QA,KRW,0,5000,-5000,2026-11-29T10:05:00.000Z
 *   merchant_total,2026-11-29,mch_…,Demo Mall,,,,,KRW,35000,5000,30000,
 *   file_total,2026-11-29,,,,,,,KRW,35000,5000,30000,
 *
 * Text cells are quoted when needed, and a text cell that a spreadsheet would run as a formula (`=`, `+`, `-`,
 * `@`, tab, CR) gets a leading apostrophe.
 */
import type { SettledOperation } from "../operations/store.ts";

export const SETTLEMENT_COLUMNS = [
  "record_type",
  "settlement_date",
  "merchant_id",
  "merchant_name",
  "payment_id",
  "operation_id",
  "operation",
  "authorization_code",
  "currency",
  "captured",
  "refunded",
  "net",
  "processed_at",
] as const;

function text(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

interface Sums {
  captured: number;
  refunded: number;
}

function add(sums: Map<string, Sums>, currency: string, op: SettledOperation): void {
  const current = sums.get(currency) ?? { captured: 0, refunded: 0 };
  if (op.type === "capture") current.captured += op.amount;
  else current.refunded += op.amount;
  sums.set(currency, current);
}

export function settlementCsv(date: string, settled: readonly SettledOperation[]): string {
  const lines: string[] = [SETTLEMENT_COLUMNS.join(",")];
  const byMerchant = new Map<string, SettledOperation[]>();
  for (const op of settled) byMerchant.set(op.merchantId, [...(byMerchant.get(op.merchantId) ?? []), op]);
  const fileSums = new Map<string, Sums>();
  for (const merchantId of [...byMerchant.keys()].sort()) {
    const ops = byMerchant.get(merchantId) ?? [];
    const merchantName = ops[0]?.merchantName ?? "";
    const merchantSums = new Map<string, Sums>();
    for (const op of ops) {
      const captured = op.type === "capture" ? op.amount : 0;
      const refunded = op.type === "refund" ? op.amount : 0;
      lines.push(
        [
          "detail",
          date,
          text(merchantId),
          text(merchantName),
          text(op.paymentId),
          text(op.operationId),
          op.type,
          text(op.authorizationCode ?? ""),
          text(op.currency),
          captured,
          refunded,
          captured - refunded,
          op.processedAt.toISOString(),
        ].join(","),
      );
      add(merchantSums, op.currency, op);
      add(fileSums, op.currency, op);
    }
    for (const [currency, sums] of [...merchantSums].sort()) {
      lines.push(
        [
          "merchant_total",
          date,
          text(merchantId),
          text(merchantName),
          "",
          "",
          "",
          "",
          text(currency),
          sums.captured,
          sums.refunded,
          sums.captured - sums.refunded,
          "",
        ].join(","),
      );
    }
  }
  const totals = fileSums.size > 0 ? [...fileSums].sort() : [["", { captured: 0, refunded: 0 }] as const];
  for (const [currency, sums] of totals) {
    lines.push(
      [
        "file_total",
        date,
        "",
        "",
        "",
        "",
        "",
        "",
        text(currency),
        sums.captured,
        sums.refunded,
        sums.captured - sums.refunded,
        "",
      ].join(","),
    );
  }
  return lines.join("\r\n") + "\r\n";
}
