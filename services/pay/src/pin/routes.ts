import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { errorResponse, idParam } from "../http/route-kit.ts";
import type { PayerService } from "../payers/service.ts";
import { PIN_PURPOSE_PATTERN, type PinPurpose, type PinService } from "./service.ts";

const opaqueMessage = z.string().min(1).max(1024).regex(/^[A-Za-z0-9_-]+$/, "not a base64url OPAQUE message");
const errors = { 400: errorResponse, 401: errorResponse, 403: errorResponse, 409: errorResponse };
const statusSchema = z.object({ object: z.literal("pin"), set: z.boolean(), locked: z.boolean(), triesLeft: z.number().int() });

/** The payment PIN over OPAQUE: the PIN itself never reaches these routes, only OPAQUE messages. */
export function pinRoutes(app: FastifyInstance, payers: PayerService, pins: PinService): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const payerOf = (authorization: string | undefined) => payers.authenticate(authorization);
  const status = async (authorization: string | undefined) => ({ object: "pin" as const, ...(await pins.status(await payerOf(authorization))) });

  r.get("/v1/payer/pin", { schema: { tags: ["payer"], response: { 200: statusSchema, ...errors } } }, (request) => status(request.headers.authorization));

  r.post(
    "/v1/payer/pin/registration",
    { schema: { tags: ["payer"], body: z.strictObject({ registrationRequest: opaqueMessage }), response: { 200: z.object({ registrationResponse: z.string() }), ...errors } } },
    async (request) => ({ registrationResponse: await pins.registrationResponse(await payerOf(request.headers.authorization), request.body.registrationRequest) }),
  );

  r.post(
    "/v1/payer/pin",
    {
      schema: {
        tags: ["payer"],
        description: "Sets the first PIN; deviceSignature is { purpose: set-pin, payerId } signed by an active device.",
        body: z.strictObject({ registrationRecord: opaqueMessage, deviceSignature: z.string().max(4096) }),
        response: { 200: statusSchema, ...errors },
      },
    },
    async (request) => {
      await pins.setPin(await payerOf(request.headers.authorization), request.body.registrationRecord, request.body.deviceSignature);
      return status(request.headers.authorization);
    },
  );

  r.post(
    "/v1/payer/pin/change",
    {
      schema: {
        tags: ["payer"],
        body: z.strictObject({ loginId: z.string().max(64), finishLoginRequest: opaqueMessage, registrationRecord: opaqueMessage }),
        response: { 200: statusSchema, ...errors },
      },
    },
    async (request) => {
      const { loginId, finishLoginRequest, registrationRecord } = request.body;
      await pins.changePin(await payerOf(request.headers.authorization), { loginId, finishLoginRequest }, registrationRecord);
      return status(request.headers.authorization);
    },
  );

  r.post(
    "/v1/payer/pin/login",
    {
      schema: {
        tags: ["payer"],
        description:
          "Starts a PIN login (a try is counted now). purpose: pin-check, pin-change, add-passkey, approval:<challengeId>, or a security change with its target: bind-device:<key thumbprint>, revoke-device:<id>, cancel-device:<id>, cancel-pin-reset:<id>, recovery:<id>. previousPin (recovery only): prove the PIN as it was before a change made within the waiting period.",
        body: z.strictObject({ startLoginRequest: opaqueMessage, purpose: z.string().regex(PIN_PURPOSE_PATTERN), previousPin: z.literal(true).optional() }),
        response: { 200: z.object({ loginId: z.string(), loginResponse: z.string(), triesLeft: z.number().int() }), ...errors },
      },
    },
    async (request) =>
      pins.startLogin(await payerOf(request.headers.authorization), request.body.startLoginRequest, request.body.purpose as PinPurpose, { previousPin: request.body.previousPin === true }),
  );

  r.post(
    "/v1/payer/pin/login/finish",
    {
      schema: {
        tags: ["payer"],
        description: "Finishes a pin-check login: proves the payer knows the PIN (payments finish theirs inside the approval).",
        body: z.strictObject({ loginId: z.string().max(64), finishLoginRequest: opaqueMessage }),
        response: { 200: z.object({ object: z.literal("pin_check"), verified: z.literal(true) }), ...errors },
      },
    },
    async (request) => {
      const key = await pins.verifyLogin(await payerOf(request.headers.authorization), request.body.loginId, request.body.finishLoginRequest, "pin-check");
      key.fill(0);
      return { object: "pin_check" as const, verified: true as const };
    },
  );
}
