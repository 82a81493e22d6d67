import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import {
  bindDeviceRequestSchema,
  cancelDeviceRequestSchema,
  deviceListSchema,
  deviceViewSchema,
  revokeDeviceRequestSchema,
  statementNonceViewSchema,
  type DeviceView,
} from "@mpay/protocol";
import { errorResponse, idParam } from "../http/route-kit.ts";
import { payerOf } from "../payers/session.ts";
import type { DeviceService } from "./service.ts";
import type { DeviceRow } from "./store.ts";

const deviceView = (d: DeviceRow): DeviceView => ({
  id: d.id,
  object: "device" as const,
  name: d.name,
  keyThumbprint: d.keyThumbprint,
  status: d.status,
  activatesAt: d.activatesAt.toISOString(),
  approvedBy: d.approvedBy,
  createdAt: d.createdAt.toISOString(),
});
const errors = { 400: errorResponse, 401: errorResponse, 403: errorResponse, 404: errorResponse, 409: errorResponse };

/** The payer's devices. Every route needs the payer's session; the power order (devices/service.ts) decides the rest. */
export function deviceRoutes(app: FastifyInstance, devices: DeviceService): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post(
    "/v1/payer/devices",
    {
      schema: {
        tags: ["payer"],
        description:
          "Binds this device. The payer's first device needs nothing more; any other needs approval ({ purpose: bind-device, payerId, deviceKey, nonce } signed by an active device) and pin (a PIN proof for bind-device:<deviceKey>), then waits the waiting period, announced.",
        body: bindDeviceRequestSchema,
        response: { 200: deviceViewSchema, ...errors },
      },
    },
    async (request) => deviceView(await devices.bind(payerOf(request), request.body)),
  );

  r.get(
    "/v1/payer/devices",
    { schema: { tags: ["payer"], response: { 200: deviceListSchema, ...errors } } },
    async (request) => ({
      object: "list" as const,
      data: (await devices.list(payerOf(request))).map(deviceView),
      hasMore: false,
    }),
  );

  r.post(
    "/v1/payer/devices/:id/revoke",
    {
      schema: {
        tags: ["payer"],
        description:
          "Revokes a device: signature is { purpose: revoke-device, payerId, deviceId, nonce } signed by the device itself, or by another active device together with pin (a PIN proof for revoke-device:<id>). A device still waiting is canceled instead (see cancel).",
        params: idParam,
        body: revokeDeviceRequestSchema,
        response: { 200: deviceViewSchema, ...errors },
      },
    },
    async (request) => deviceView(await devices.revoke(payerOf(request), request.params.id, request.body ?? {})),
  );

  r.post(
    "/v1/payer/devices/:id/cancel",
    {
      schema: {
        tags: ["payer"],
        description:
          "Cancels a binding or recovery still in its waiting period: with pin (a PIN proof for cancel-device:<id>), or signature ({ purpose: cancel-device, payerId, deviceId, nonce }) of the waiting device itself. Another device's word alone cancels nothing.",
        params: idParam,
        body: cancelDeviceRequestSchema,
        response: { 200: deviceViewSchema, ...errors },
      },
    },
    async (request) => deviceView(await devices.cancelPending(payerOf(request), request.params.id, request.body)),
  );

  r.post(
    "/v1/payer/statement-nonces",
    {
      schema: {
        tags: ["payer"],
        description:
          "A single-use nonce for the next device statement: every statement carries one, and verifying it spends it.",
        response: { 200: statementNonceViewSchema, ...errors },
      },
    },
    async (request) => {
      const { nonce, expiresAt } = await devices.statementNonce(payerOf(request));
      return { object: "statement_nonce" as const, nonce, expiresAt: expiresAt.toISOString() };
    },
  );
}
