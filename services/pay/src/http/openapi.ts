/**
 * What /openapi.json says of each operation besides its schemas (issue 10, deliverable 5): an `operationId` a
 * client generator can name a method by, and the credential each route takes. The ids follow Stripe's OpenAPI
 * convention (`PostPaymentsIdCapture`), derived from the method and path, so a new route gets one without anyone
 * remembering to write it and two routes can never share one.
 */
import type { FastifySchema, RouteOptions } from "fastify";
import { jsonSchemaTransform } from "fastify-type-provider-zod";

/** `POST /v1/payments/:id/capture` → `PostPaymentsIdCapture`. */
export function operationIdOf(method: string, url: string): string {
  const pascal = (word: string) => word.charAt(0).toUpperCase() + word.slice(1).toLowerCase();
  const words = url
    .replace(/^\/v1\//, "/")
    .split("/")
    .filter(Boolean)
    .flatMap((segment) => segment.replace(/^:|[{}]/g, "").split(/[-_.]/))
    .map(pascal);
  return pascal(method) + words.join("");
}

/**
 * The scheme a route takes: the payer's session on `/v1/payer/…` (except the sign-in steps before there is one),
 * none on the hosted checkout's `/v1/checkout/…` (the payment id is the capability), the merchant's secret key
 * elsewhere (the document's default).
 */
export function securityOf(url: string): FastifySchema["security"] {
  if (url.startsWith("/v1/checkout/")) return [];
  if (/^\/v1\/payer\/auth\//.test(url)) return [];
  if (url.startsWith("/v1/payer/")) return [{ payerSession: [] }];
  return undefined;
}

/** zod's JSON Schema transform, then the operation's id and security. */
export function openApiTransform(
  input: Parameters<typeof jsonSchemaTransform>[0],
): ReturnType<typeof jsonSchemaTransform> {
  const transformed = jsonSchemaTransform(input);
  const route: RouteOptions = input.route;
  const method = Array.isArray(route.method) ? (route.method[0] ?? "GET") : route.method;
  // A route that says its own security (the operator's unseal routes) keeps it.
  const security = transformed.schema.security ?? securityOf(input.url);
  const schema: FastifySchema & { operationId: string } = {
    ...transformed.schema,
    operationId: operationIdOf(method, input.url),
    ...(security === undefined ? {} : { security }),
  };
  return { ...transformed, schema };
}
