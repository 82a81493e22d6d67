/**
 * The account's official messages, for its own sessions (`Authorization: Bearer mss_…`): `GET /api/messages`
 * (newest first, `limit` and `startingAfter`, with the unread count) and `POST /api/messages/{id}/read`. Only the
 * session's account's messages are ever served; another account's id is answered as if it did not exist.
 */
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { OFFICIAL_MESSAGE_ID_PATTERN } from "@mpay/protocol";
import { ApiError, fromZod } from "../http/errors.ts";
import type { SessionService } from "../sessions/service.ts";
import type { OfficialMessageService } from "./service.ts";

const listQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  startingAfter: z.string().regex(OFFICIAL_MESSAGE_ID_PATTERN, "not a message id").optional(),
});

export function inboxRoutes(app: FastifyInstance, sessions: SessionService, messages: OfficialMessageService): void {
  app.get("/api/messages", async (request, reply) => {
    const accountId = await sessions.authenticate(request.headers.authorization);
    const query = listQuery.safeParse(request.query ?? {});
    if (!query.success) throw fromZod(query.error);
    const page = await messages.list(accountId, query.data);
    return reply.header("cache-control", "no-store").send({ object: "list", ...page });
  });

  app.post<{ Params: { id: string } }>("/api/messages/:id/read", async (request, reply) => {
    const accountId = await sessions.authenticate(request.headers.authorization);
    if (!OFFICIAL_MESSAGE_ID_PATTERN.test(request.params.id))
      throw new ApiError("message_not_found", "You have no message with this id.", "id");
    return reply.header("cache-control", "no-store").send(await messages.markRead(accountId, request.params.id));
  });
}
