import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { errorResponse } from "../http/route-kit.ts";
import type { PayerService } from "../payers/service.ts";
import { creationOptionsSchema, credentialIdSchema, registrationResponseSchema } from "./schemas.ts";
import type { PasskeyService } from "./service.ts";
import type { PasskeyRow } from "./store.ts";

const passkeySchema = z.object({
  id: z.string(),
  object: z.literal("passkey"),
  /** The COSE public key (base64url): a wallet binds it at the issuer when it enrolls a card. */
  publicKey: z.string(),
  status: z.enum(["active", "revoked"]),
  deviceType: z.string(),
  backedUp: z.boolean(),
  transports: z.array(z.string()),
  createdAt: z.string(),
  revokedAt: z.string().nullable(),
});
const passkeyView = (p: PasskeyRow) => ({
  id: p.id,
  object: "passkey" as const,
  publicKey: p.publicKey,
  status: p.revokedAt === null ? ("active" as const) : ("revoked" as const),
  deviceType: p.deviceType,
  backedUp: p.backedUp === 1,
  transports: p.transports,
  createdAt: p.createdAt.toISOString(),
  revokedAt: p.revokedAt?.toISOString() ?? null,
});
const errors = { 400: errorResponse, 401: errorResponse, 403: errorResponse, 404: errorResponse, 409: errorResponse };

/** The payer's passkeys. Every route needs the payer's session; adding one also an active device's signature. */
export function passkeyRoutes(app: FastifyInstance, payers: PayerService, passkeys: PasskeyService): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const payerOf = (authorization: string | undefined) => payers.authenticate(authorization);

  r.post(
    "/v1/payer/passkeys/registration-options",
    {
      schema: {
        tags: ["payer"],
        description:
          "Options for startRegistration(); deviceSignature is { purpose: add-passkey, payerId } signed by an active device, and pin proves the PIN (a finished OPAQUE login for add-passkey).",
        body: z.strictObject({
          deviceSignature: z.string().max(4096),
          pin: z.strictObject({ loginId: z.string().max(64), finishLoginRequest: z.string().max(1024) }),
        }),
        response: { 200: creationOptionsSchema, ...errors },
      },
    },
    async (request) => passkeys.registrationOptions(await payerOf(request.headers.authorization), request.body.deviceSignature, request.body.pin),
  );

  r.post(
    "/v1/payer/passkeys",
    {
      schema: {
        tags: ["payer"],
        description: "Registers the passkey that startRegistration() made with the latest registration options.",
        body: z.strictObject({ response: registrationResponseSchema }),
        response: { 200: passkeySchema, ...errors },
      },
    },
    async (request) => passkeyView(await passkeys.finishRegistration(await payerOf(request.headers.authorization), request.body.response)),
  );

  r.get(
    "/v1/payer/passkeys",
    { schema: { tags: ["payer"], response: { 200: z.object({ object: z.literal("list"), data: z.array(passkeySchema), hasMore: z.boolean() }), ...errors } } },
    async (request) => ({
      object: "list" as const,
      data: (await passkeys.list(await payerOf(request.headers.authorization))).map(passkeyView),
      hasMore: false,
    }),
  );

  r.post(
    "/v1/payer/passkeys/:id/revoke",
    {
      schema: {
        tags: ["payer"],
        params: z.strictObject({ id: credentialIdSchema }),
        body: z.strictObject({}).nullish(),
        response: { 200: passkeySchema, ...errors },
      },
    },
    async (request) => passkeyView(await passkeys.revoke(await payerOf(request.headers.authorization), request.params.id)),
  );
}
