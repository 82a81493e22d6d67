/** The daily settlement file of one issuer, as CSV (written to its data folder once the day is over). */
import type { FastifyInstance } from "fastify";
import type { IssuerHost } from "../host.ts";
import { pathOf, settlementDateSchema } from "../http/params.ts";

export function settlementRoutes(app: FastifyInstance, host: IssuerHost): void {
  app.get("/issuers/:issuerId/settlements/:date", async (request, reply) => {
    const { issuer, date } = pathOf(host, request, { date: settlementDateSchema });
    const { csv, closed } = await issuer.settlements.settlement(date);
    return reply
      .header("content-type", "text/csv; charset=utf-8")
      .header("content-disposition", `attachment; filename="${issuer.id}-settlement-${date}.csv"`)
      .header("x-settlement-final", closed ? "true" : "false")
      .send(csv);
  });
}
