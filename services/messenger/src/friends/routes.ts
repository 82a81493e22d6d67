/**
 * The session's friends (`Authorization: Bearer mss_…`): `POST /api/friends {phoneNumber}` adds one (201, or 200
 * when already a friend), `GET /api/friends` lists them.
 */
import type { FastifyInstance } from "fastify";
import { addFriendInputSchema } from "@mpay/protocol";
import { fromZod } from "../http/errors.ts";
import type { SessionService } from "../sessions/service.ts";
import type { FriendService } from "./service.ts";

export function friendRoutes(app: FastifyInstance, sessions: SessionService, friends: FriendService): void {
  app.post("/api/friends", async (request, reply) => {
    const accountId = await sessions.authenticate(request.headers.authorization);
    const input = addFriendInputSchema.safeParse(request.body ?? {});
    if (!input.success) throw fromZod(input.error);
    const { friend, created } = await friends.add(accountId, input.data.phoneNumber);
    // Ids only: a phone number someone looked up is not for the logs.
    request.log.info(
      { event: created ? "friend_added" : "friend_exists", sub: accountId, friend: friend.id },
      "friend",
    );
    return reply
      .status(created ? 201 : 200)
      .header("cache-control", "no-store")
      .send(friend);
  });

  app.get("/api/friends", async (request, reply) => {
    const accountId = await sessions.authenticate(request.headers.authorization);
    return reply.header("cache-control", "no-store").send({ object: "list", data: await friends.list(accountId) });
  });
}
