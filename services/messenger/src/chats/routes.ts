/**
 * The session's chats (`Authorization: Bearer mss_…`): `POST /api/chats` opens a direct chat (200 existing, 201
 * new) or makes a group (201); `GET /api/chats` lists them; `GET /api/chats/{id}/messages` pages a chat's history;
 * `POST /api/chats/{id}/messages` sends (201, or 200 with the stored message for a resend of its
 * clientMessageId); `POST /api/chats/{id}/read` moves the read mark. A chat the account is not in is 404
 * `chat_not_found`, exactly as one that does not exist.
 */
import type { FastifyInstance } from "fastify";
import type { z } from "zod";
import {
  chatHistoryQuerySchema,
  createChatInputSchema,
  markChatReadInputSchema,
  sendChatMessageInputSchema,
} from "@mpay/protocol";
import { fromZod } from "../http/errors.ts";
import type { SessionService } from "../sessions/service.ts";
import type { ChatService } from "./service.ts";

function parse<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const parsed = schema.safeParse(value ?? {});
  if (!parsed.success) throw fromZod(parsed.error);
  return parsed.data;
}

type WithChat = { Params: { id: string } };

export function chatRoutes(app: FastifyInstance, sessions: SessionService, chats: ChatService): void {
  app.post("/api/chats", async (request, reply) => {
    const accountId = await sessions.authenticate(request.headers.authorization);
    const { chat, created } = await chats.open(accountId, parse(createChatInputSchema, request.body));
    if (created) request.log.info({ event: "chat_created", sub: accountId, chat: chat.id, kind: chat.kind }, "chat");
    return reply
      .status(created ? 201 : 200)
      .header("cache-control", "no-store")
      .send(chat);
  });

  app.get("/api/chats", async (request, reply) => {
    const accountId = await sessions.authenticate(request.headers.authorization);
    return reply.header("cache-control", "no-store").send({ object: "list", data: await chats.list(accountId) });
  });

  app.get<WithChat>("/api/chats/:id/messages", async (request, reply) => {
    const accountId = await sessions.authenticate(request.headers.authorization);
    const query = parse(chatHistoryQuerySchema, request.query);
    const page = await chats.history(accountId, request.params.id, query);
    return reply.header("cache-control", "no-store").send({ object: "list", ...page });
  });

  app.post<WithChat>("/api/chats/:id/messages", async (request, reply) => {
    const accountId = await sessions.authenticate(request.headers.authorization);
    const input = parse(sendChatMessageInputSchema, request.body);
    const { message, created } = await chats.send(accountId, request.params.id, input);
    // Ids and seq only: what people write to each other is not for the logs.
    request.log.info(
      {
        event: created ? "chat_message_sent" : "chat_message_resent",
        sub: accountId,
        chat: message.chatId,
        seq: message.seq,
      },
      "chat message",
    );
    return reply
      .status(created ? 201 : 200)
      .header("cache-control", "no-store")
      .send(message);
  });

  app.post<WithChat>("/api/chats/:id/read", async (request, reply) => {
    const accountId = await sessions.authenticate(request.headers.authorization);
    const { seq } = parse(markChatReadInputSchema, request.body);
    return reply.header("cache-control", "no-store").send(await chats.markRead(accountId, request.params.id, seq));
  });
}
