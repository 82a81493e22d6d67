/**
 * The dashboard's routes (issue 10, deliverable 3; contract in docs/merchant-api.md "Dashboard users"):
 * - `dashboardSignInRoutes`: the sign-in steps, before there is a session (their own scope, limited per address).
 * - `dashboardRoutes`: in the /v1 merchant scope, behind the session (permissions.ts: user-only routes).
 * Hidden from /openapi.json: they serve the dashboard in apps/web, not a merchant's server.
 */
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { webAuthnCreationOptionsSchema } from "@mpay/protocol";
import type { Db } from "../db/client.ts";
import { MERCHANT_ROLES } from "../http/caller.ts";
import { answerIdempotent, errorResponse, merchantOf } from "../http/route-kit.ts";
import type { DashboardPasskeys } from "./passkeys.ts";
import type { MerchantUserService } from "./service.ts";
import { userView } from "./views.ts";

const errors = {
  400: errorResponse,
  401: errorResponse,
  403: errorResponse,
  404: errorResponse,
  409: errorResponse,
  429: errorResponse,
};
const role = z.enum(MERCHANT_ROLES);
const sessionUser = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  role,
  merchantId: z.string(),
  merchantName: z.string(),
});
const sessionSchema = z.object({
  object: z.literal("dashboard_session"),
  token: z.string(),
  expiresAt: z.string(),
  user: sessionUser,
});
const challengeSchema = z.union([
  z.object({ object: z.literal("sign_in_challenge"), challenge: z.string(), factor: z.literal("totp") }),
  z.object({
    object: z.literal("sign_in_challenge"),
    challenge: z.string(),
    factor: z.literal("totp_setup"),
    totpSetup: z.object({ secret: z.string(), otpauthUri: z.string() }),
  }),
]);
const userSchema = z.object({
  object: z.literal("merchant_user"),
  id: z.string(),
  email: z.string(),
  name: z.string(),
  role,
  merchantId: z.string(),
  disabled: z.boolean(),
  totpEnabled: z.boolean(),
  createdAt: z.string(),
  lastSignInAt: z.string().nullable(),
});
const userId = z.strictObject({ id: z.string().regex(/^mus_[0-9A-Z]{26}$/, "not a dashboard user id") });
/** WebAuthn JSON from the browser: its shape checked by passkeys.ts, its signature by @simplewebauthn/server. */
const webAuthnResponse = z.record(z.string(), z.unknown());
/** `PublicKeyCredentialRequestOptionsJSON` for `startAuthentication()` (a discoverable sign-in: no allow list). */
const webAuthnRequestOptions = z.object({
  challenge: z.string(),
  rpId: z.string().optional(),
  timeout: z.number().int().optional(),
  userVerification: z.enum(["discouraged", "preferred", "required"]).optional(),
  allowCredentials: z
    .array(z.object({ id: z.string(), type: z.string(), transports: z.array(z.string()).optional() }))
    .optional(),
});

export function dashboardSignInRoutes(
  app: FastifyInstance,
  users: MerchantUserService,
  passkeys: DashboardPasskeys,
): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const hidden = { hide: true, security: [] };

  r.post(
    "/v1/dashboard/sign-in",
    {
      schema: {
        ...hidden,
        body: z.strictObject({ email: z.string().max(300), password: z.string().max(1000) }),
        response: { 200: challengeSchema, ...errors },
      },
    },
    async (request) => users.signIn(request.body.email, request.body.password),
  );

  r.post(
    "/v1/dashboard/sign-in/totp",
    {
      schema: {
        ...hidden,
        body: z.strictObject({ challenge: z.string().max(100), code: z.string().max(20) }),
        response: { 200: sessionSchema, ...errors },
      },
    },
    async (request) => users.confirmTotp(request.body.challenge, request.body.code),
  );

  r.post(
    "/v1/dashboard/sign-in/passkey/options",
    {
      schema: { ...hidden, body: z.strictObject({}).nullish(), response: { 200: webAuthnRequestOptions, ...errors } },
    },
    async () => passkeys.signInOptions(),
  );

  r.post(
    "/v1/dashboard/sign-in/passkey",
    {
      schema: {
        ...hidden,
        body: z.strictObject({ response: webAuthnResponse }),
        response: { 200: sessionSchema, ...errors },
      },
    },
    async (request) => passkeys.signIn(request.body.response),
  );
}

export function dashboardRoutes(
  app: FastifyInstance,
  db: Db,
  users: MerchantUserService,
  passkeys: DashboardPasskeys,
): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const hidden = { hide: true };

  r.get(
    "/v1/dashboard/me",
    {
      schema: {
        ...hidden,
        response: {
          200: z.object({
            object: z.literal("dashboard_me"),
            mode: z.enum(["test", "live"]),
            user: sessionUser,
            merchant: z.object({ id: z.string(), name: z.string(), displayName: z.string() }),
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const auth = merchantOf(request);
      const user = await users.me(auth);
      return {
        object: "dashboard_me" as const,
        mode: auth.mode,
        user: {
          id: user.id,
          email: user.email,
          name: user.name,
          role: user.role,
          merchantId: user.merchantId,
          merchantName: auth.merchant.name,
        },
        merchant: { id: auth.merchant.id, name: auth.merchant.name, displayName: auth.merchant.displayName },
      };
    },
  );

  r.post(
    "/v1/dashboard/sign-out",
    {
      schema: {
        ...hidden,
        body: z.strictObject({}).nullish(),
        response: { 200: z.object({ object: z.literal("dashboard_session"), signedOut: z.literal(true) }), ...errors },
      },
    },
    async (request) => {
      const token = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? "")?.[1] ?? "";
      await users.signOut(token, merchantOf(request));
      return { object: "dashboard_session" as const, signedOut: true as const };
    },
  );

  r.get(
    "/v1/dashboard/users",
    {
      schema: {
        ...hidden,
        response: {
          200: z.object({ object: z.literal("list"), data: z.array(userSchema), hasMore: z.boolean() }),
          ...errors,
        },
      },
    },
    async (request) => ({
      object: "list" as const,
      data: (await users.list(merchantOf(request).merchantId)).map(userView),
      hasMore: false,
    }),
  );

  r.post(
    "/v1/dashboard/users",
    {
      schema: {
        ...hidden,
        body: z.strictObject({ email: z.string().max(300), name: z.string().max(200), role }),
        response: { 200: userSchema.extend({ temporaryPassword: z.string() }), ...errors },
      },
    },
    (request, reply) =>
      answerIdempotent(
        db,
        request,
        reply,
        "POST /v1/dashboard/users",
        async (tx, auth) => {
          const created = await users.create({ merchantId: auth.merchantId, ...request.body, actor: auth.actor }, tx);
          return {
            statusCode: 200,
            body: { ...userView(created.user), temporaryPassword: created.temporaryPassword.peek() },
          };
        },
        // The answer holds the temporary password, which is never stored: a repeated key is refused, not replayed.
        { replayable: false },
      ),
  );

  r.post(
    "/v1/dashboard/users/:id",
    {
      schema: {
        ...hidden,
        params: userId,
        body: z.strictObject({ role: role.optional(), disabled: z.boolean().optional() }),
        response: { 200: userSchema, ...errors },
      },
    },
    async (request) => userView(await users.update(merchantOf(request), request.params.id, request.body)),
  );

  r.post(
    "/v1/dashboard/passkeys/options",
    {
      schema: {
        ...hidden,
        body: z.strictObject({}).nullish(),
        response: { 200: webAuthnCreationOptionsSchema, ...errors },
      },
    },
    async (request) => passkeys.registrationOptions(merchantOf(request)),
  );

  r.post(
    "/v1/dashboard/passkeys",
    {
      schema: {
        ...hidden,
        body: z.strictObject({ response: webAuthnResponse }),
        response: {
          200: z.object({ object: z.literal("dashboard_passkey"), id: z.string(), createdAt: z.string() }),
          ...errors,
        },
      },
    },
    async (request) => passkeys.register(merchantOf(request), request.body.response),
  );
}
