/**
 * `POST /api/sessions` (phone number and password → a bearer session), `DELETE /api/sessions/current` and
 * `GET /api/me` (the session's account). Answers that carry a session token are never cached; the token is never
 * logged.
 */
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { Secret } from "@mpay/protocol";
import { ApiError, fromZod } from "../http/errors.ts";
import type { AccountService } from "../accounts/service.ts";
import type { SessionService } from "./service.ts";

// Lengths are checked by the service, as the login form's are: a sign-in is never told "password too short".
const signInInput = z.strictObject({ phoneNumber: z.string().max(64), password: z.string().max(4096) });

function parseSignIn(body: unknown): z.output<typeof signInInput> {
  const parsed = signInInput.safeParse(body ?? {});
  if (parsed.success) return parsed.data;
  const error = fromZod(parsed.error);
  // fromZod names account-creation rules (`password_too_weak`, `phone_number_invalid`); here only types and presence.
  if (error.code === "password_too_weak" || error.code === "phone_number_invalid") {
    throw new ApiError("parameter_invalid", `${error.param} must be a string.`, error.param);
  }
  throw error;
}

export function sessionRoutes(app: FastifyInstance, sessions: SessionService, accounts: AccountService): void {
  app.post("/api/sessions", async (request, reply) => {
    const input = parseSignIn(request.body);
    const session = await sessions.signIn(input.phoneNumber.slice(0, 32), new Secret(input.password), request.ip);
    request.log.info({ event: "app_session_opened", sub: session.account.id }, "app session opened");
    return reply
      .status(201)
      .header("cache-control", "no-store")
      .send({
        object: "session",
        sessionToken: session.sessionToken.peek(),
        expiresAt: session.expiresAt.toISOString(),
        account: {
          id: session.account.id,
          phoneNumber: session.account.phoneNumber,
          displayName: session.account.displayName,
        },
      });
  });

  app.get("/api/me", async (request, reply) => {
    const account = await accounts.find(await sessions.authenticate(request.headers.authorization));
    if (!account) throw new ApiError("session_invalid", "The session's account no longer exists; sign in again.");
    return reply.header("cache-control", "no-store").send({
      object: "account",
      id: account.id,
      phoneNumber: account.phoneNumber,
      displayName: account.displayName,
    });
  });

  app.delete("/api/sessions/current", async (request, reply) => {
    await sessions.signOut(request.headers.authorization);
    request.log.info({ event: "app_session_closed" }, "app session closed");
    return reply.status(204).send();
  });
}
