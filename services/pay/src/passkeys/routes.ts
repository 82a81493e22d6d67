import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import {
  emptyRequestSchema,
  passkeyListSchema,
  passkeyRegistrationOptionsRequestSchema,
  passkeyViewSchema,
  registerPasskeyRequestSchema,
  webAuthnCreationOptionsSchema,
  webAuthnCredentialIdSchema,
  type PasskeyView,
} from "@mpay/protocol";
import { errorResponse } from "../http/route-kit.ts";
import { payerOf } from "../payers/session.ts";
import type { PasskeyService } from "./service.ts";
import type { PasskeyRow } from "./store.ts";

const passkeyView = (p: PasskeyRow): PasskeyView => ({
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
export function passkeyRoutes(app: FastifyInstance, passkeys: PasskeyService): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post(
    "/v1/payer/passkeys/registration-options",
    {
      schema: {
        tags: ["payer"],
        description:
          "Options for startRegistration(); deviceSignature is { purpose: add-passkey, payerId } signed by an active device, and pin proves the PIN (a finished OPAQUE login for add-passkey).",
        body: passkeyRegistrationOptionsRequestSchema,
        response: { 200: webAuthnCreationOptionsSchema, ...errors },
      },
    },
    async (request) => passkeys.registrationOptions(payerOf(request), request.body.deviceSignature, request.body.pin),
  );

  r.post(
    "/v1/payer/passkeys",
    {
      schema: {
        tags: ["payer"],
        description: "Registers the passkey that startRegistration() made with the latest registration options.",
        body: registerPasskeyRequestSchema,
        response: { 200: passkeyViewSchema, ...errors },
      },
    },
    async (request) => passkeyView(await passkeys.finishRegistration(payerOf(request), request.body.response)),
  );

  r.get(
    "/v1/payer/passkeys",
    { schema: { tags: ["payer"], response: { 200: passkeyListSchema, ...errors } } },
    async (request) => ({
      object: "list" as const,
      data: (await passkeys.list(payerOf(request))).map(passkeyView),
      hasMore: false,
    }),
  );

  r.post(
    "/v1/payer/passkeys/:id/revoke",
    {
      schema: {
        tags: ["payer"],
        params: z.strictObject({ id: webAuthnCredentialIdSchema }),
        body: emptyRequestSchema,
        response: { 200: passkeyViewSchema, ...errors },
      },
    },
    async (request) => passkeyView(await passkeys.revoke(payerOf(request), request.params.id)),
  );
}
