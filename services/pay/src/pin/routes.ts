import type { FastifyInstance, FastifyRequest } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import {
  changePinRequestSchema,
  pinCheckViewSchema,
  pinLoginFinishRequestSchema,
  pinLoginRequestSchema,
  pinLoginViewSchema,
  pinRegistrationRequestSchema,
  pinRegistrationViewSchema,
  pinStatusViewSchema,
  setPinRequestSchema,
} from "@mpay/protocol";
import { errorResponse } from "../http/route-kit.ts";
import { payerOf } from "../payers/session.ts";
import type { PinPurpose, PinService } from "./service.ts";

const errors = { 400: errorResponse, 401: errorResponse, 403: errorResponse, 409: errorResponse };

/** The payment PIN over OPAQUE: the PIN itself never reaches these routes, only OPAQUE messages. */
export function pinRoutes(app: FastifyInstance, pins: PinService): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const status = async (request: FastifyRequest) => ({
    object: "pin" as const,
    ...(await pins.status(payerOf(request))),
  });

  r.get(
    "/v1/payer/pin",
    { schema: { tags: ["payer"], response: { 200: pinStatusViewSchema, ...errors } } },
    (request) => status(request),
  );

  r.post(
    "/v1/payer/pin/registration",
    {
      schema: {
        tags: ["payer"],
        body: pinRegistrationRequestSchema,
        response: { 200: pinRegistrationViewSchema, ...errors },
      },
    },
    async (request) => ({
      registrationResponse: await pins.registrationResponse(payerOf(request), request.body.registrationRequest),
    }),
  );

  r.post(
    "/v1/payer/pin",
    {
      schema: {
        tags: ["payer"],
        description: "Sets the first PIN; deviceSignature is { purpose: set-pin, payerId } signed by an active device.",
        body: setPinRequestSchema,
        response: { 200: pinStatusViewSchema, ...errors },
      },
    },
    async (request) => {
      await pins.setPin(payerOf(request), request.body.registrationRecord, request.body.deviceSignature);
      return status(request);
    },
  );

  r.post(
    "/v1/payer/pin/change",
    {
      schema: {
        tags: ["payer"],
        body: changePinRequestSchema,
        response: { 200: pinStatusViewSchema, ...errors },
      },
    },
    async (request) => {
      const { loginId, finishLoginRequest, registrationRecord } = request.body;
      await pins.changePin(payerOf(request), { loginId, finishLoginRequest }, registrationRecord);
      return status(request);
    },
  );

  r.post(
    "/v1/payer/pin/login",
    {
      schema: {
        tags: ["payer"],
        description:
          "Starts a PIN login (a try is counted now). purpose: pin-check, pin-change, add-passkey, approval:<challengeId>, or a security change with its target: bind-device:<key thumbprint>, revoke-device:<id>, cancel-device:<id>, cancel-pin-reset:<id>, recovery:<id>. previousPin (recovery only): prove the PIN as it was before a change made within the waiting period.",
        body: pinLoginRequestSchema,
        response: { 200: pinLoginViewSchema, ...errors },
      },
    },
    async (request) =>
      pins.startLogin(payerOf(request), request.body.startLoginRequest, request.body.purpose as PinPurpose, {
        previousPin: request.body.previousPin === true,
      }),
  );

  r.post(
    "/v1/payer/pin/login/finish",
    {
      schema: {
        tags: ["payer"],
        description:
          "Finishes a pin-check login: proves the payer knows the PIN (payments finish theirs inside the approval).",
        body: pinLoginFinishRequestSchema,
        response: { 200: pinCheckViewSchema, ...errors },
      },
    },
    async (request) => {
      const key = await pins.verifyLogin(
        payerOf(request),
        request.body.loginId,
        request.body.finishLoginRequest,
        "pin-check",
      );
      key.fill(0);
      return { object: "pin_check" as const, verified: true as const };
    },
  );
}
