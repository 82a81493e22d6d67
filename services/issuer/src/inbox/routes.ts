/** Public routes: the directory of issuers and their certificates, and (simulator only) the test inbox. */
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { IssuerDirectoryEntry } from "@mpay/protocol";
import type { Issuer, IssuerHost } from "../host.ts";
import { IssuerApiError } from "../http/errors.ts";
import { parseInput } from "../http/input.ts";
import { pathOf } from "../http/params.ts";
import { normalizePhone } from "../cards/card-facts.ts";
import { choosePhonePage, inboxPage, PAGE_HEADERS, wantsPage } from "./page.ts";

function entry(issuer: Issuer): IssuerDirectoryEntry {
  return { issuerId: issuer.id, name: issuer.name, certificate: issuer.keys.certificateJws };
}

const inboxQuery = z.object({ phone: z.string().min(1).max(32) });

export function publicRoutes(app: FastifyInstance, host: IssuerHost): void {
  app.get("/issuers", async () => [...host.issuers.values()].map(entry));

  app.get("/issuers/:issuerId/certificate", async (request) => entry(pathOf(host, request, {}).issuer));

  if (!host.config.testInbox) return;
  // One URL for scripts (JSON) and for a person's browser (a page): the Accept header chooses.
  app.get("/test-inbox", async (request, reply) => {
    if (wantsPage(request.headers.accept)) {
      const query = inboxQuery.safeParse(request.query ?? {});
      const phone = query.success ? normalizePhone(query.data.phone) : null;
      if (!phone) {
        const asked = typeof (request.query as Record<string, unknown> | undefined)?.["phone"] === "string";
        return reply
          .status(asked ? 400 : 200)
          .headers(PAGE_HEADERS)
          .send(choosePhonePage(asked));
      }
      // The simulator's clock (a test moves it) says which codes have expired.
      const now = [...host.issuers.values()][0]?.now() ?? new Date();
      return reply.headers(PAGE_HEADERS).send(inboxPage(phone, await host.inbox(phone), now));
    }
    const { phone: raw } = parseInput(inboxQuery, request.query, "query");
    const phone = normalizePhone(raw);
    if (!phone)
      throw new IssuerApiError(
        "request_invalid",
        "The phone is not a phone number (E.164, for example +821055510001).",
      );
    reply.header("vary", "Accept");
    return { phone, messages: await host.inbox(phone) };
  });
}
