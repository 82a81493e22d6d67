/**
 * The provider's interactions: where oidc-provider sends a browser that must sign in or consent. Each step reads
 * the interaction through `provider.interactionDetails` and ends it through `provider.interactionResult`.
 *
 * Forms are bound to the interaction: the provider finds the interaction by its cookie (signed, SameSite=Lax,
 * scoped to /interaction/<uid>), and a form is accepted only when the uid in its URL is that interaction's, so a
 * page on another site can neither start nor finish someone's sign-in. A POST with a foreign Origin is refused too.
 *
 * Failed passwords are limited per phone number and per IP (throttle.ts); the page says the same thing whether the
 * number has no account or the password is wrong, and nothing typed is logged.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { errors, type Provider, type Interaction } from "oidc-provider";
import { Secret } from "@mpay/protocol";
import type { AccountService } from "../accounts/service.ts";
import { errorPage, foreignOrigin, sendPage } from "../http/pages.ts";
import { SCOPES } from "../oidc/provider.ts";
import { consentPage, loginPage } from "./pages.ts";
import { attemptKeys, type LoginThrottle } from "./throttle.ts";

export interface SigninDeps {
  provider(): Provider;
  issuer(): string;
  accounts: AccountService;
  throttle: LoginThrottle;
  firstPartyClients: ReadonlySet<string>;
  windowMinutes: number;
}

type Params = { uid: string };
type Form = Record<string, string | undefined>;

const EXPIRED = () =>
  errorPage(
    "This sign-in has expired",
    "Go back to the app you came from and start signing in again. (Sign-in pages work for 15 minutes, in the browser that opened them.)",
  );

export function signinRoutes(app: FastifyInstance, deps: SigninDeps): void {
  const { accounts, throttle } = deps;

  /** The interaction this browser is in, if it is the one named in the URL; null when expired or not this browser's. */
  async function interaction(
    request: FastifyRequest<{ Params: Params }>,
    reply: FastifyReply,
  ): Promise<Interaction | null> {
    try {
      const details = await deps.provider().interactionDetails(request.raw, reply.raw);
      return details.uid === request.params.uid ? details : null;
    } catch (error) {
      if (error instanceof errors.SessionNotFound) return null;
      throw error;
    }
  }

  async function clientOf(details: Interaction): Promise<{ id: string; name: string; firstParty: boolean }> {
    const id = String(details.params["client_id"]);
    const client = await deps.provider().Client.find(id);
    return { id, name: client?.clientName ?? id, firstParty: deps.firstPartyClients.has(id) };
  }

  async function finish(
    request: FastifyRequest,
    reply: FastifyReply,
    result: Parameters<Provider["interactionResult"]>[2],
    merge: boolean,
  ) {
    const returnTo = await deps
      .provider()
      .interactionResult(request.raw, reply.raw, result, { mergeWithLastSubmission: merge });
    return reply.header("cache-control", "no-store").redirect(returnTo, 303);
  }

  /** Records consent for the scopes this interaction asks for (only the provider's own scopes exist). */
  async function consent(request: FastifyRequest, reply: FastifyReply, details: Interaction) {
    const accountId = details.session?.accountId;
    if (!accountId) return sendPage(reply, EXPIRED());
    const provider = deps.provider();
    const missing = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[] };
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId, clientId: String(details.params["client_id"]) });
    if (!grant) return sendPage(reply, EXPIRED());
    const scopes = (missing.missingOIDCScope ?? []).filter((scope) => (SCOPES as readonly string[]).includes(scope));
    if (scopes.length > 0) grant.addOIDCScope(scopes.join(" "));
    if (missing.missingOIDCClaims?.length) grant.addOIDCClaims(missing.missingOIDCClaims);
    const grantId = await grant.save();
    return finish(request, reply, { consent: details.grantId ? {} : { grantId } }, true);
  }

  app.get<{ Params: Params }>("/interaction/:uid", async (request, reply) => {
    const details = await interaction(request, reply);
    if (!details) return sendPage(reply, EXPIRED());
    const client = await clientOf(details);
    switch (details.prompt.name) {
      case "login":
        return sendPage(reply, loginPage({ uid: details.uid, clientName: client.name }));
      case "consent": {
        // MPay's own clients get openid/profile/phone without a consent screen, but through this interaction all
        // the same, so that the grant is recorded exactly as for any other client.
        if (client.firstParty) return consent(request, reply, details);
        const scopes = String(details.params["scope"] ?? "")
          .split(" ")
          .filter((scope) => (SCOPES as readonly string[]).includes(scope));
        return sendPage(reply, consentPage(details.uid, client.name, scopes));
      }
      default:
        return sendPage(
          reply,
          errorPage("Sign-in cannot continue", "The app asked for a sign-in step this messenger does not offer."),
        );
    }
  });

  app.post<{ Params: Params; Body: Form }>("/interaction/:uid/login", async (request, reply) => {
    if (foreignOrigin(request, deps.issuer()))
      return sendPage(reply, errorPage("Sign-in refused", "This form was sent from another site.", 403));
    const details = await interaction(request, reply);
    if (!details) return sendPage(reply, EXPIRED());
    if (details.prompt.name !== "login")
      return sendPage(reply, errorPage("Already signed in", "Go back to the app you came from and start again."));
    const client = await clientOf(details);
    const phone = String(request.body?.["phone"] ?? "").slice(0, 32);
    const password = new Secret(String(request.body?.["password"] ?? ""));
    const again = (error: string, status: number) =>
      sendPage(reply, loginPage({ uid: details.uid, clientName: client.name, phoneNumber: phone, error, status }));

    const keys = attemptKeys(phone, request.ip);
    const attempt = await throttle.begin(keys);
    if (!attempt) {
      request.log.warn({ event: "login_throttled" }, "sign-in refused: too many failed attempts");
      return again(`Too many failed attempts. Wait ${deps.windowMinutes} minutes and try again.`, 429);
    }
    const account =
      password.peek().length > 0 && password.peek().length <= 128 ? await accounts.authenticate(phone, password) : null;
    if (!account) {
      request.log.info({ event: "login_failed" }, "sign-in failed");
      return again("The phone number or password is incorrect.", 401);
    }
    await throttle.succeeded(keys, attempt);
    request.log.info({ event: "login_succeeded", sub: account.id, client: client.id }, "signed in");
    return finish(request, reply, { login: { accountId: account.id } }, false);
  });

  app.post<{ Params: Params }>("/interaction/:uid/confirm", async (request, reply) => {
    if (foreignOrigin(request, deps.issuer()))
      return sendPage(reply, errorPage("Refused", "This form was sent from another site.", 403));
    const details = await interaction(request, reply);
    if (!details || details.prompt.name !== "consent") return sendPage(reply, EXPIRED());
    return consent(request, reply, details);
  });

  app.post<{ Params: Params }>("/interaction/:uid/abort", async (request, reply) => {
    if (foreignOrigin(request, deps.issuer()))
      return sendPage(reply, errorPage("Refused", "This form was sent from another site.", 403));
    const details = await interaction(request, reply);
    if (!details) return sendPage(reply, EXPIRED());
    return finish(request, reply, { error: "access_denied", error_description: "The user denied access." }, false);
  });
}
