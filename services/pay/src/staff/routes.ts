/**
 * The operator console's routes (issue 10, deliverable 4), under /v1/staff and hidden from /openapi.json: they
 * serve the console in apps/web, not a merchant's server. The sign-in steps take no session; every other route
 * takes a staff session (`sts_…`) and nothing else — a merchant's key or dashboard session is refused here, as a
 * staff session is refused on the merchant routes (merchants/ knows no `sts_` token).
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { errorResponse } from "../http/route-kit.ts";
import type { StaffConsole } from "./console.ts";
import type { StaffAuth, StaffService } from "./service.ts";
import { STAFF_ROLES } from "./schema.ts";

declare module "fastify" {
  interface FastifyRequest {
    staffAuth?: StaffAuth;
  }
}

const errors = { 400: errorResponse, 401: errorResponse, 403: errorResponse, 404: errorResponse, 409: errorResponse };
const hidden = { hide: true, security: [] };
const staffSchema = z.object({ id: z.string(), email: z.string(), name: z.string(), role: z.enum(STAFF_ROLES) });
const merchantSchema = z.object({
  object: z.literal("console_merchant"),
  id: z.string(),
  name: z.string(),
  displayName: z.string(),
  allowedOrigins: z.array(z.string()),
  suspended: z.boolean(),
  suspendedAt: z.string().nullable(),
  createdAt: z.string(),
});
const merchantId = z.strictObject({ id: z.string().regex(/^mch_[0-9A-Z]{26}$/, "not a merchant id") });

function staffOf(request: FastifyRequest): StaffAuth {
  if (!request.staffAuth) throw new Error("a console route ran without its staff session");
  return request.staffAuth;
}

const asMerchant = <T extends object>(m: T) => ({ object: "console_merchant" as const, ...m });

export function staffSignInRoutes(app: FastifyInstance, staff: StaffService): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.post(
    "/v1/staff/sign-in",
    {
      schema: {
        ...hidden,
        body: z.strictObject({ email: z.string().max(300), password: z.string().max(1000) }),
        response: {
          200: z.union([
            z.object({
              object: z.literal("staff_sign_in_challenge"),
              challenge: z.string(),
              factor: z.literal("totp"),
            }),
            z.object({
              object: z.literal("staff_sign_in_challenge"),
              challenge: z.string(),
              factor: z.literal("totp_setup"),
              totpSetup: z.object({ secret: z.string(), otpauthUri: z.string() }),
            }),
          ]),
          ...errors,
        },
      },
    },
    async (request) => staff.signIn(request.body.email, request.body.password),
  );
  r.post(
    "/v1/staff/sign-in/totp",
    {
      schema: {
        ...hidden,
        body: z.strictObject({ challenge: z.string().max(100), code: z.string().max(20) }),
        response: {
          200: z.object({
            object: z.literal("staff_session"),
            token: z.string(),
            expiresAt: z.string(),
            staff: staffSchema,
          }),
          ...errors,
        },
      },
    },
    async (request) => staff.confirmTotp(request.body.challenge, request.body.code),
  );
}

/** Resolves the staff session before anything else runs in the scope (the rate limit counts per staff member). */
export function authenticateStaff(app: FastifyInstance, staff: StaffService): void {
  app.addHook("onRequest", async (request) => {
    if (request.method === "OPTIONS") return;
    request.staffAuth = await staff.authenticate(request.headers.authorization);
  });
}

/** The console's routes; the scope has `authenticateStaff` first. */
export function staffRoutes(app: FastifyInstance, staff: StaffService, console: StaffConsole): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    "/v1/staff/me",
    { schema: { ...hidden, response: { 200: z.object({ object: z.literal("staff_me"), staff: staffSchema }) } } },
    async (request) => {
      const auth = staffOf(request);
      return {
        object: "staff_me" as const,
        staff: { id: auth.staffId, email: auth.email, name: auth.name, role: auth.role },
      };
    },
  );

  r.post(
    "/v1/staff/sign-out",
    {
      schema: {
        ...hidden,
        body: z.strictObject({}).nullish(),
        response: { 200: z.object({ object: z.literal("staff_session"), signedOut: z.literal(true) }), ...errors },
      },
    },
    async (request) => {
      await staff.signOut(request.headers.authorization, staffOf(request));
      return { object: "staff_session" as const, signedOut: true as const };
    },
  );

  r.get(
    "/v1/staff/merchants",
    {
      schema: {
        ...hidden,
        response: {
          200: z.object({ object: z.literal("list"), data: z.array(merchantSchema), hasMore: z.boolean() }),
          ...errors,
        },
      },
    },
    async () => ({ object: "list" as const, data: (await console.merchants()).map(asMerchant), hasMore: false }),
  );

  r.post(
    "/v1/staff/merchants",
    {
      schema: {
        ...hidden,
        body: z.strictObject({
          name: z.string().max(200),
          displayName: z.string().max(200).optional(),
          allowedOrigins: z.array(z.string().max(300)).max(50).optional(),
        }),
        response: {
          200: z.object({
            merchant: merchantSchema,
            mode: z.enum(["test", "live"]),
            secretKey: z.string(),
            publishableKey: z.string(),
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const made = await console.createMerchant(staffOf(request), request.body);
      return { ...made, merchant: asMerchant(made.merchant) };
    },
  );

  for (const [path, suspended] of [
    ["/v1/staff/merchants/:id/suspend", true],
    ["/v1/staff/merchants/:id/unsuspend", false],
  ] as const) {
    r.post(
      path,
      {
        schema: {
          ...hidden,
          params: merchantId,
          body: z.strictObject({}).nullish(),
          response: { 200: merchantSchema, ...errors },
        },
      },
      async (request) => asMerchant(await console.setSuspended(staffOf(request), request.params.id, suspended)),
    );
  }

  r.get("/v1/staff/vault", { schema: hidden }, async () => ({ object: "vault_status", ...(await console.vault()) }));
  r.get("/v1/staff/keys", { schema: hidden }, async () => ({
    object: "key_versions",
    ...(await console.keyVersions()),
  }));
  r.get("/v1/staff/reconciler", { schema: hidden }, async () => ({
    object: "reconciler_queue",
    ...(await console.reconcilerQueue()),
  }));
  r.get("/v1/staff/webhooks", { schema: hidden }, async () => ({
    object: "webhook_backlog",
    ...(await console.webhookBacklog()),
  }));
  r.post("/v1/staff/audit/verify", { schema: { ...hidden, body: z.strictObject({}).nullish() } }, async (request) => ({
    object: "audit_verification",
    ...(await console.auditVerify(staffOf(request))),
  }));
}
