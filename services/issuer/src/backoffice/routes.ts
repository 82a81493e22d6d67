/** The back office (operator token): one card's view, and the books check of a whole issuer. */
import type { FastifyInstance } from "fastify";
import type { IssuerHost } from "../host.ts";
import { cardRefSchema, pathOf } from "../http/params.ts";
import { checkBooks } from "./books.ts";
import { backofficeCard, backofficeStatement } from "./view.ts";

export function backofficeRoutes(app: FastifyInstance, host: IssuerHost): void {
  app.get("/issuers/:issuerId/backoffice/cards/:cardRef", async (request) => {
    const { issuer, cardRef } = pathOf(host, request, { cardRef: cardRefSchema });
    return backofficeCard(issuer.db, cardRef, issuer.now());
  });

  app.get("/issuers/:issuerId/backoffice/cards/:cardRef/authorizations", async (request) => {
    const { issuer, cardRef } = pathOf(host, request, { cardRef: cardRefSchema });
    return backofficeStatement(issuer.db, cardRef);
  });

  app.get("/issuers/:issuerId/backoffice/books", async (request) => {
    const { issuer } = pathOf(host, request, {});
    return checkBooks(issuer.db);
  });
}
