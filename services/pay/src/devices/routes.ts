import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { errorResponse, idParam } from "../http/route-kit.ts";
import type { PayerService } from "../payers/service.ts";
import type { DeviceService } from "./service.ts";
import { deviceJwkSchema } from "./signatures.ts";
import type { DeviceRow } from "./store.ts";

const deviceSchema = z.object({
  id: z.string(),
  object: z.literal("device"),
  name: z.string(),
  keyThumbprint: z.string(),
  status: z.enum(["pending", "active", "revoked", "canceled"]),
  activatesAt: z.string(),
  approvedBy: z.string(),
  createdAt: z.string(),
});
const deviceView = (d: DeviceRow) => ({
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
const list = z.object({ object: z.literal("list"), data: z.array(deviceSchema), hasMore: z.boolean() });

/** The payer's devices. Every route needs the payer's session; binding a second device also a device's signature. */
export function deviceRoutes(app: FastifyInstance, payers: PayerService, devices: DeviceService): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const payerOf = (authorization: string | undefined) => payers.authenticate(authorization);

  r.post(
    "/v1/payer/devices",
    {
      schema: {
        tags: ["payer"],
        body: z.strictObject({ publicKeyJwk: deviceJwkSchema, name: z.string().max(60), approval: z.string().max(4096).optional() }),
        response: { 200: deviceSchema, ...errors },
      },
    },
    async (request) => deviceView(await devices.bind(await payerOf(request.headers.authorization), request.body)),
  );

  r.get("/v1/payer/devices", { schema: { tags: ["payer"], response: { 200: list, ...errors } } }, async (request) => ({
    object: "list" as const,
    data: (await devices.list(await payerOf(request.headers.authorization))).map(deviceView),
    hasMore: false,
  }));

  r.get("/v1/payer/pending-changes", { schema: { tags: ["payer"], response: { 200: list, ...errors } } }, async (request) => ({
    object: "list" as const,
    data: (await devices.pending(await payerOf(request.headers.authorization))).map(deviceView),
    hasMore: false,
  }));

  r.post(
    "/v1/payer/devices/:id/revoke",
    {
      schema: {
        tags: ["payer"],
        description: "An active device needs signature: { purpose: revoke-device, payerId, deviceId } signed by an active device (itself or another).",
        params: idParam,
        body: z.strictObject({ signature: z.string().max(4096).optional() }).nullish(),
        response: { 200: deviceSchema, ...errors },
      },
    },
    async (request) => deviceView(await devices.revoke(await payerOf(request.headers.authorization), request.params.id, request.body?.signature)),
  );

  r.post(
    "/v1/payer/devices/:id/cancel",
    { schema: { tags: ["payer"], params: idParam, body: z.strictObject({ signature: z.string().max(4096) }), response: { 200: deviceSchema, ...errors } } },
    async (request) => deviceView(await devices.cancelPending(await payerOf(request.headers.authorization), request.params.id, request.body.signature)),
  );
}
