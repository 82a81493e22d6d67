/** Public routes: the directory of issuers and their certificates, and (simulator only) the test inbox. */
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { IssuerDirectoryEntry } from "@mpay/protocol";
import type { Issuer, IssuerHost } from "../host.ts";
import { IssuerApiError } from "../http/errors.ts";
import { parseInput } from "../http/input.ts";
import { pathOf } from "../http/params.ts";
import { normalizePhone } from "../cards/card-facts.ts";

function entry(issuer: Issuer): IssuerDirectoryEntry {
  return { issuerId: issuer.id, name: issuer.name, certificate: issuer.keys.certificateJws };
}

export function publicRoutes(app: FastifyInstance, host: IssuerHost): void {
  app.get("/issuers", async () => [...host.issuers.values()].map(entry));

  app.get("/issuers/:issuerId/certificate", async (request) => entry(pathOf(host, request, {}).issuer));

  if (!host.config.testInbox) return;
  app.get("/test-inbox", async (request) => {
    const { phone: raw } = parseInput(z.object({ phone: z.string().min(1).max(32) }), request.query, "query");
    const phone = normalizePhone(raw);
    if (!phone)
      throw new IssuerApiError(
        "request_invalid",
        "The phone is not a phone number (E.164, for example +821055510001).",
      );
    return { phone, messages: await host.inbox(phone) };
  });
}
