/**
 * The filters of the payments list, shared by `GET /v1/payments` and its CSV export (reports/), so both select
 * exactly the same payments: status, order id, a creation window and a search over order id and item name.
 */
import { z } from "zod";
import { PAYMENT_STATUSES, type PaymentStatus } from "@mpay/protocol";
import { ApiError } from "../http/errors.ts";

const instant = z.iso
  .datetime({ offset: true })
  .describe("ISO 8601 date and time with its offset (2026-12-04T00:00:00+09:00)");

export const paymentFilterQuery = {
  status: z.enum(PAYMENT_STATUSES).optional(),
  orderId: z.string().max(64).optional().describe("Exactly this order id"),
  createdFrom: instant.optional().describe("Created at or after this moment"),
  createdTo: instant.optional().describe("Created before this moment"),
  q: z.string().min(1).max(100).optional().describe("Part of the order id or the item name, any case"),
};

export interface PaymentFilters {
  status?: PaymentStatus;
  orderId?: string;
  createdFrom?: Date;
  createdTo?: Date;
  q?: string;
}

/** No payment predates 1970 or outlives year 9999; years ISO allows beyond them (0000, BC once shifted by an offset) broke the query (a 500 the fuzzer found). */
const EARLIEST = Date.UTC(1970, 0, 1);
const LATEST = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

function instantOf(text: string, field: string): Date {
  const at = new Date(text);
  const ms = at.getTime();
  if (!(ms >= EARLIEST && ms <= LATEST))
    throw new ApiError("parameter_invalid", `${field} must be between 1970 and 9999.`, field);
  return at;
}

/** The query's filters as the store takes them; a window that ends before it starts is refused, not emptied. */
export function paymentFilters(query: {
  status?: PaymentStatus | undefined;
  orderId?: string | undefined;
  createdFrom?: string | undefined;
  createdTo?: string | undefined;
  q?: string | undefined;
}): PaymentFilters {
  const filters: PaymentFilters = {};
  if (query.status) filters.status = query.status;
  if (query.orderId) filters.orderId = query.orderId;
  if (query.createdFrom) filters.createdFrom = instantOf(query.createdFrom, "createdFrom");
  if (query.createdTo) filters.createdTo = instantOf(query.createdTo, "createdTo");
  if (query.q) filters.q = query.q;
  if (filters.createdFrom && filters.createdTo && filters.createdFrom >= filters.createdTo)
    throw new ApiError("parameter_invalid", "createdTo must be after createdFrom.", "createdTo");
  return filters;
}
