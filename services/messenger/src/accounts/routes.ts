/**
 * Account creation: `POST /api/accounts` (JSON, for scripts and the web app) and the sign-up page (a form, for
 * people). Both validate with the same zod schema and are rate-limited per IP.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { Secret } from "@mpay/protocol";
import { ApiError, fromZod, toApiError } from "../http/errors.ts";
import { errorPage, foreignOrigin, sendPage } from "../http/pages.ts";
import { accountInput } from "./input.ts";
import { homePage, signupDonePage, signupPage } from "./pages.ts";
import type { Account, AccountService } from "./service.ts";

const INTERACTION_UID = /^[A-Za-z0-9_-]{8,64}$/;

function accountJson(account: Account) {
  return {
    id: account.id,
    phoneNumber: account.phoneNumber,
    displayName: account.displayName,
    phoneNumberVerified: account.phoneVerified,
    createdAt: account.createdAt.toISOString(),
  };
}

async function create(accounts: AccountService, body: unknown): Promise<Account> {
  const parsed = accountInput.safeParse(body ?? {});
  if (!parsed.success) throw fromZod(parsed.error);
  const { password, ...rest } = parsed.data;
  return accounts.create({ ...rest, password: new Secret(password) });
}

function interactionOf(request: FastifyRequest): string | undefined {
  const value = (request.query as Record<string, unknown>)["interaction"];
  return typeof value === "string" && INTERACTION_UID.test(value) ? value : undefined;
}

export function accountRoutes(
  app: FastifyInstance,
  accounts: AccountService,
  issuer: () => string,
  perMinute: number,
): void {
  const rateLimit = { max: perMinute, timeWindow: 60_000 };

  app.get("/", async (_request, reply) => sendPage(reply, homePage(issuer())));

  app.post("/api/accounts", { config: { rateLimit } }, async (request, reply) => {
    const account = await create(accounts, request.body);
    request.log.info({ event: "account_created", sub: account.id }, "account created");
    return reply.status(201).send(accountJson(account));
  });

  app.get("/signup", async (request, reply) => sendPage(reply, signupPage({ interaction: interactionOf(request) })));

  app.post<{ Body: Record<string, string | undefined> }>(
    "/signup",
    { config: { rateLimit } },
    async (request, reply) => {
      if (foreignOrigin(request, issuer()))
        return sendPage(reply, errorPage("Refused", "This form was sent from another site.", 403));
      const interaction = interactionOf(request);
      const form = request.body ?? {};
      const fields = {
        phoneNumber: form["phoneNumber"] ?? "",
        displayName: form["displayName"] ?? "",
        password: form["password"] ?? "",
      };
      try {
        const account = await create(accounts, fields);
        request.log.info({ event: "account_created", sub: account.id }, "account created");
        if (interaction) return reply.redirect(`/interaction/${interaction}`, 303);
        return sendPage(reply, signupDonePage(account.displayName));
      } catch (error) {
        const apiError = toApiError(error);
        if (!(apiError instanceof ApiError)) throw error;
        return sendPage(
          reply,
          signupPage({
            interaction,
            phoneNumber: fields.phoneNumber,
            displayName: fields.displayName,
            error: apiError.message,
            status: apiError.statusCode,
          }),
        );
      }
    },
  );
}
