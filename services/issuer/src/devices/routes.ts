/** Unbinding a revoked device, acknowledged. */
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { IssuerHost } from "../host.ts";
import { parseInput } from "../http/input.ts";
import { deviceKidSchema, pathOf } from "../http/params.ts";

export function deviceRoutes(app: FastifyInstance, host: IssuerHost): void {
  app.post("/issuers/:issuerId/devices/:kid/unbind", async (request) => {
    const { issuer, kid } = pathOf(host, request, { kid: deviceKidSchema });
    parseInput(z.strictObject({}), request.body);
    return issuer.devices.unbind(kid);
  });
}
