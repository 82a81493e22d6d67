/**
 * The dashboard's read views as merchant API routes (issue 10, deliverable 3): the same authentication and scoping
 * as every /v1 route, so a secret key reads them as a dashboard session does.
 */
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { errorResponse, idParam, merchantOf } from "../http/route-kit.ts";
import { paymentFilterQuery, paymentFilters } from "../payments/list-filters.ts";
import { dailyReportSchema } from "./daily.ts";
import { MAX_EXPORT_ROWS, type ReportService } from "./service.ts";
import { timelineSchema } from "./timeline.ts";

const errors = { 400: errorResponse, 401: errorResponse, 403: errorResponse, 404: errorResponse };

export function reportRoutes(app: FastifyInstance, reports: ReportService): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    "/v1/payments/:id/timeline",
    {
      schema: {
        tags: ["payments"],
        summary: "A payment's timeline",
        description:
          "What happened to the payment, oldest first: its state changes, refunds, the events about it and their webhook deliveries with the endpoint's last answer and, for a failed one, the link that sends it again.",
        params: idParam,
        response: { 200: timelineSchema, ...errors },
      },
    },
    async (request) => reports.timeline(merchantOf(request), request.params.id),
  );

  r.get(
    "/v1/reports/daily",
    {
      schema: {
        tags: ["reports"],
        summary: "Daily totals",
        description:
          "Per day of the last `days` days (today included, days in `timeZone`): payments authorized, money authorized, captured and refunded, and net (captured − refunded), in one currency and this mode, from the ledger.",
        querystring: z.strictObject({
          days: z.coerce.number().int().min(1).max(366).default(30),
          currency: z
            .string()
            .regex(/^[A-Z]{3}$/, "an ISO 4217 code in upper case")
            .default("KRW"),
          timeZone: z.string().max(64).default("UTC").describe("IANA time zone of the days (Asia/Seoul)"),
        }),
        response: { 200: dailyReportSchema, ...errors },
      },
    },
    async (request) => {
      const auth = merchantOf(request);
      const report = await reports.daily(auth, request.query);
      return { object: "daily_report" as const, livemode: auth.mode === "live", ...report };
    },
  );

  r.get(
    "/v1/payments/export.csv",
    {
      schema: {
        tags: ["payments"],
        summary: "Export payments as CSV",
        description: `The payments the list's filters select, newest first, as RFC 4180 CSV (amounts in minor units); at most ${MAX_EXPORT_ROWS} rows, and header \`mpay-export-truncated: true\` when there were more. A text cell that starts with = + - or @ gets a leading ' so no spreadsheet runs it.`,
        querystring: z.strictObject(paymentFilterQuery),
        produces: ["text/csv"],
        response: { 200: z.string().describe("text/csv"), ...errors },
      },
    },
    async (request, reply) => {
      const auth = merchantOf(request);
      const { csv, truncated } = await reports.exportCsv(auth, paymentFilters(request.query));
      const day = new Date().toISOString().slice(0, 10);
      if (truncated) reply.header("mpay-export-truncated", "true");
      return reply
        .type("text/csv; charset=utf-8")
        .header("content-disposition", `attachment; filename="payments-${auth.mode}-${day}.csv"`)
        .send(csv);
    },
  );
}
