/** Path and query parameters, as schemas: what an id of each kind looks like here. Parsed like bodies (input.ts). */
import type { FastifyRequest } from "fastify";
import { z } from "zod";
import { issuerIdSchema } from "@mpay/protocol";
import type { Issuer, IssuerHost } from "../host.ts";
import { parseInput } from "./input.ts";

export const paymentIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);
export const deviceKidSchema = z.string().regex(/^[A-Za-z0-9_-]{43}$/);
export const enrollmentIdSchema = z.string().regex(/^ien_[0-9A-Z]{26}$/);
export const cardRefSchema = z.string().regex(/^icr_[0-9A-Z]{26}$/);
export const recurringTokenValueSchema = z.string().regex(/^rtk_[A-Za-z0-9_-]{43}$/);
export const settlementDateSchema = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);

const issuerPath = z.object({ issuerId: issuerIdSchema });

/**
 * Object schemas of the routes' shapes, built once (issue 11: building them per request cost more than parsing):
 * a route passes a fresh literal each time, so the key is its field names, and a hit must hold the same schemas.
 */
const pathSchemas = new Map<string, { shape: z.ZodRawShape; schema: z.ZodObject<z.ZodRawShape> }>();

function pathSchemaOf<S extends z.ZodRawShape>(shape: S): z.ZodObject<S> {
  const key = Object.keys(shape).join(",");
  const known = pathSchemas.get(key);
  if (known && Object.entries(shape).every(([field, schema]) => known.shape[field] === schema))
    return known.schema as unknown as z.ZodObject<S>;
  const schema = z.object(shape);
  pathSchemas.set(key, { shape, schema: schema as unknown as z.ZodObject<z.ZodRawShape> });
  return schema;
}

/** The path parameters, parsed with `shape`, plus the issuer they name (or `issuer_unknown`). */
export function pathOf<S extends z.ZodRawShape>(
  host: IssuerHost,
  request: FastifyRequest,
  shape: S,
): { issuer: Issuer } & z.infer<z.ZodObject<S>> {
  const { issuerId } = parseInput(issuerPath, request.params, "path");
  const params = parseInput(pathSchemaOf(shape), request.params, "path");
  return { ...params, issuer: host.get(issuerId) };
}
