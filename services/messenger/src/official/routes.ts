/**
 * `POST /api/official/{account}/messages`: an official account's sender (the pay server, for `mpay`) posts a
 * message to one messenger account. The sender authenticates as the registered client that operates the account,
 * with HTTP Basic (`client_secret_basic`, the credentials it signs payers in with); nothing else may post as it.
 * 201 for a new message, 200 with the stored one for a resend of the same id.
 */
import type { FastifyInstance } from "fastify";
import { officialMessageInputSchema } from "@mpay/protocol";
import type { OfficialAccountConfig } from "../config.ts";
import { ApiError, fromZod } from "../http/errors.ts";
import type { RegisteredClient } from "../oidc/provider.ts";
import { authenticateClient } from "./client-auth.ts";
import type { OfficialMessageService } from "./service.ts";

export interface OfficialRoutesDeps {
  messages: OfficialMessageService;
  officialAccounts: readonly OfficialAccountConfig[];
  /** The registered clients with their secrets (known once the server has resolved them). */
  clients: readonly RegisteredClient[];
}

export function officialRoutes(app: FastifyInstance, deps: OfficialRoutesDeps): void {
  app.post<{ Params: { account: string } }>("/api/official/:account/messages", async (request, reply) => {
    const client = authenticateClient(request.headers.authorization, deps.clients);
    if (!client) {
      reply.header("www-authenticate", 'Basic realm="messenger official accounts"');
      throw new ApiError(
        "client_authentication_failed",
        "Authenticate with the official account's client id and secret (HTTP Basic).",
      );
    }
    const account = deps.officialAccounts.find((candidate) => candidate.handle === request.params.account);
    if (!account) throw new ApiError("official_account_not_found", "There is no official account with this name.");
    if (account.clientId !== client.clientId)
      throw new ApiError("official_account_forbidden", `Client ${client.clientId} may not post as ${account.handle}.`);
    const parsed = officialMessageInputSchema.safeParse(request.body ?? {});
    if (!parsed.success) throw fromZod(parsed.error);
    const { message, created } = await deps.messages.receive(account.handle, parsed.data);
    request.log.info(
      {
        event: created ? "official_message_received" : "official_message_resent",
        id: message.id,
        sub: parsed.data.to,
        kind: message.kind,
      },
      "official message",
    );
    return reply.status(created ? 201 : 200).send(message);
  });
}
