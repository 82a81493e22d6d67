import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import {
  cancelPendingChangeRequestSchema,
  deviceRecoveryRequestSchema,
  deviceRecoveryVerifyRequestSchema,
  deviceRecoveryViewSchema,
  pendingChangeListSchema,
  pinResetRequestSchema,
  pinResetStartedViewSchema,
  pinResetVerifyRequestSchema,
  pinResetViewSchema,
  recoveredDeviceViewSchema,
  type PinResetView,
} from "@mpay/protocol";
import { errorResponse, idParam } from "../http/route-kit.ts";
import { payerOf } from "../payers/session.ts";
import type { PinResetRow } from "../pin/service.ts";
import { cardView } from "../vault/routes.ts";
import type { RecoveryService } from "./service.ts";

const errors = {
  400: errorResponse,
  401: errorResponse,
  403: errorResponse,
  404: errorResponse,
  409: errorResponse,
  429: errorResponse,
  503: errorResponse,
};

const pinResetView = (reset: PinResetRow): PinResetView => ({
  id: reset.id,
  object: "pin_reset" as const,
  status: reset.status,
  activatesAt: reset.status === "verification_required" ? null : reset.activatesAt.toISOString(),
  requestedBy: reset.requestedBy,
});

/** Recoveries, PIN resets and the changes that wait to take effect (recovery/service.ts has the rules). */
export function recoveryRoutes(app: FastifyInstance, recovery: RecoveryService): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post(
    "/v1/payer/recoveries",
    {
      schema: {
        tags: ["payer"],
        description:
          "A new device (the messenger session alone) proves one of the payer's cards at its issuer: the enrollment JWE carries the new device key; the issuer texts a code to the phone on file.",
        body: deviceRecoveryRequestSchema,
        response: { 200: deviceRecoveryViewSchema, ...errors },
      },
    },
    async (request) => {
      const started = await recovery.startDeviceRecovery(payerOf(request), request.body, request.ip);
      return {
        id: started.id,
        object: "device_recovery" as const,
        status: "verification_required" as const,
        codeSentTo: started.codeSentTo,
        expiresAt: started.expiresAt.toISOString(),
      };
    },
  );

  r.post(
    "/v1/payer/recoveries/:id/verify",
    {
      schema: {
        tags: ["payer"],
        description:
          "The issuer's code. With pin (a PIN proof for recovery:<id>) the new device is active at once, and revokeOtherDevices revokes every other device now; without it the device waits the waiting period (announced) and the other devices are revoked when it takes effect, unless a PIN proof cancels it.",
        params: idParam,
        body: deviceRecoveryVerifyRequestSchema,
        response: { 200: recoveredDeviceViewSchema, ...errors },
      },
    },
    async (request) => {
      const { device, card, ended } = await recovery.verifyDeviceRecovery(
        payerOf(request),
        request.params.id,
        request.body,
      );
      return {
        deviceId: device.id,
        status: device.status,
        activatesAt: device.activatesAt.toISOString(),
        card: cardView(card),
        revokedDevices: ended.map((d) => d.id),
      };
    },
  );

  r.post(
    "/v1/payer/pin/resets",
    {
      schema: {
        tags: ["payer"],
        description:
          "Asks for a PIN reset from an active device with the issuer's cardholder check: enrollment is a JWE of one of the payer's cards (with this device's key) to its issuer; deviceSignature is { purpose: reset-pin, payerId, issuerId, recordHash, enrollmentHash, nonce }. The issuer texts a code to the card's phone.",
        body: pinResetRequestSchema,
        response: { 200: pinResetStartedViewSchema, ...errors },
      },
    },
    async (request) => {
      const { reset, codeSentTo, expiresAt } = await recovery.startPinReset(payerOf(request), request.body, request.ip);
      return {
        id: reset.id,
        object: "pin_reset" as const,
        status: "verification_required" as const,
        codeSentTo,
        expiresAt: expiresAt.toISOString(),
        reset: pinResetView(reset),
      };
    },
  );

  r.post(
    "/v1/payer/pin/resets/:id/verify",
    {
      schema: {
        tags: ["payer"],
        description:
          "The issuer's code: the reset waits the waiting period (announced), then replaces the PIN, unless a PIN proof cancels it.",
        params: idParam,
        body: pinResetVerifyRequestSchema,
        response: { 200: pinResetViewSchema, ...errors },
      },
    },
    async (request) =>
      pinResetView(await recovery.verifyPinReset(payerOf(request), request.params.id, request.body.code)),
  );

  r.get(
    "/v1/payer/pending-changes",
    { schema: { tags: ["payer"], response: { 200: pendingChangeListSchema, ...errors } } },
    async (request) => ({
      object: "list" as const,
      data: await recovery.pendingChanges(payerOf(request)),
      hasMore: false,
    }),
  );

  r.post(
    "/v1/payer/pending-changes/:id/cancel",
    {
      schema: {
        tags: ["payer"],
        description:
          "Cancels a pending change with pin, a PIN proof for cancel-device:<id> (a device or recovery) or cancel-pin-reset:<id>.",
        params: idParam,
        body: cancelPendingChangeRequestSchema,
        response: { 200: pendingChangeListSchema, ...errors },
      },
    },
    async (request) => {
      const payer = payerOf(request);
      await recovery.cancelPendingChange(payer, request.params.id, request.body.pin);
      return { object: "list" as const, data: await recovery.pendingChanges(payer), hasMore: false };
    },
  );
}
