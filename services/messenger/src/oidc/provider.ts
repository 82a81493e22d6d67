/**
 * The OpenID Connect provider: the certified `oidc-provider`, configured for exactly what MPay needs and nothing
 * more. Authorization code flow only (no implicit, no hybrid), PKCE with S256 required of every client, scopes
 * `openid profile phone`, statically registered confidential clients, the database adapter, the messenger's own
 * keys, and its own login and consent pages (signin/routes.ts) instead of the development interactions.
 *
 * Every endpoint lives under /oidc (discovery stays at /.well-known/openid-configuration, where the spec puts it),
 * so app.ts can hand exactly those paths to the provider and everything else to Fastify.
 */
import {
  Provider,
  type ClientMetadata,
  type Configuration,
  type ErrorOut,
  type KoaContextWithOIDC,
  type errors,
} from "oidc-provider";
import type { Logger } from "pino";
import type { Db } from "../db/client.ts";
import type { AccountService } from "../accounts/service.ts";
import { describeForLog } from "../http/errors.ts";
import { errorPage } from "../http/pages.ts";
import { databaseAdapter } from "./adapter.ts";
import type { ProviderSecrets } from "./secrets.ts";

export const SCOPES = ["openid", "profile", "phone"] as const;

/** A client as the provider needs it; the secret is in clear here because oidc-provider compares it itself. */
export interface RegisteredClient {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
  name: string;
  firstParty: boolean;
}

export interface ProviderOptions {
  issuer: string;
  db: Db;
  accounts: AccountService;
  secrets: ProviderSecrets;
  clients: RegisteredClient[];
  trustProxy: boolean;
  log: Logger;
}

/** Lifetimes in seconds. Codes are redeemed at once; the pay server uses the access token only right after sign-in. */
export const TTL = {
  AuthorizationCode: 60,
  AccessToken: 10 * 60,
  IdToken: 10 * 60,
  Interaction: 15 * 60,
  Session: 7 * 86_400,
  Grant: 30 * 86_400,
} as const;

function clientMetadata(client: RegisteredClient): ClientMetadata {
  return {
    client_id: client.clientId,
    client_secret: client.clientSecret,
    client_name: client.name,
    redirect_uris: client.redirectUris,
    grant_types: ["authorization_code"],
    response_types: ["code"],
    token_endpoint_auth_method: "client_secret_basic",
    id_token_signed_response_alg: "ES256",
  };
}

export function createProvider(options: ProviderOptions): Provider {
  const { accounts, log } = options;
  const configuration: Configuration = {
    adapter: databaseAdapter(options.db),
    clients: options.clients.map(clientMetadata),
    jwks: options.secrets.jwks as Configuration["jwks"],
    cookies: {
      keys: options.secrets.cookieKeys,
      long: { httpOnly: true, sameSite: "lax", signed: true },
      short: { httpOnly: true, sameSite: "lax", signed: true },
      names: { session: "_messenger_session", interaction: "_messenger_interaction", resume: "_messenger_resume" },
    },
    responseTypes: ["code"],
    pkce: { required: () => true },
    scopes: [...SCOPES],
    claims: {
      openid: ["sub"],
      profile: ["name"],
      phone: ["phone_number", "phone_number_verified"],
    },
    // With the default (true), scope claims would go only to /userinfo whenever an access token is issued; MPay's
    // clients read them from the ID token, which they verify anyway.
    conformIdTokenClaims: false,
    allowOmittingSingleRegisteredRedirectUri: false,
    clientAuthMethods: ["client_secret_basic", "client_secret_post"],
    enabledJWA: { idTokenSigningAlgValues: ["ES256", "RS256"] },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: { enabled: false },
      resourceIndicators: { enabled: false },
      userinfo: { enabled: true },
      pushedAuthorizationRequests: {
        enabled: true,
        requirePushedAuthorizationRequests: false,
        allowUnregisteredRedirectUris: false,
      },
    },
    routes: {
      authorization: "/oidc/auth",
      token: "/oidc/token",
      jwks: "/oidc/jwks",
      userinfo: "/oidc/me",
      pushed_authorization_request: "/oidc/request",
      revocation: "/oidc/token/revocation",
      introspection: "/oidc/token/introspection",
      end_session: "/oidc/session/end",
      registration: "/oidc/reg",
      device_authorization: "/oidc/device/auth",
      code_verification: "/oidc/device",
      backchannel_authentication: "/oidc/backchannel",
      challenge: "/oidc/challenge",
      credential: "/oidc/credential",
    },
    ttl: { ...TTL },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    // No browser-side (CORS) use of the token or userinfo endpoints: MPay's clients are servers.
    clientBasedCORS: () => false,
    async findAccount(_ctx: KoaContextWithOIDC, sub: string) {
      const account = await accounts.find(sub);
      if (!account) return undefined;
      return {
        accountId: account.id,
        claims: () => ({
          sub: account.id,
          name: account.displayName,
          phone_number: account.phoneNumber,
          phone_number_verified: account.phoneVerified,
        }),
      };
    },
    renderError(ctx: KoaContextWithOIDC, out: ErrorOut) {
      const page = errorPage("Sign-in failed", `${out.error}: ${out.error_description ?? ""}`.trim());
      ctx.type = "html";
      for (const [name, value] of Object.entries(page.headers)) ctx.set(name, value);
      ctx.body = page.body;
    },
  };
  const provider = new Provider(options.issuer, configuration);
  provider.proxy = options.trustProxy;

  // What the operator sees: the error code and the provider's description, never a code, token or cookie value.
  provider.on("server_error", (_ctx: unknown, error: unknown) =>
    log.error({ err: describeForLog(error) }, "oidc server error"),
  );
  const refused = (event: string) => (_ctx: KoaContextWithOIDC, error: errors.OIDCProviderError) =>
    log.info({ event, error: error.error, description: error.error_description }, "oidc request refused");
  provider.on("authorization.error", refused("authorization.error"));
  provider.on("grant.error", refused("grant.error"));
  provider.on("userinfo.error", refused("userinfo.error"));
  provider.on("pushed_authorization_request.error", refused("pushed_authorization_request.error"));
  return provider;
}
