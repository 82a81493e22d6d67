/**
 * Input at the edge: every body, parameter and query is parsed with a schema (the protocol's where one exists).
 * A refusal names the field by its place in the schema, never by what was sent: no value and no unknown key name
 * is echoed back (an unknown key is input too).
 */
import type { z } from "zod";
import { IssuerApiError } from "./errors.ts";

export function parseInput<T extends z.ZodType>(schema: T, value: unknown, what = "body"): z.infer<T> {
  const parsed = schema.safeParse(value ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  if (!issue) throw new IssuerApiError("request_invalid", `The ${what} is invalid.`);
  const path = issue.path.map(String).join(".");
  const field = path ? `${what} field ${path}` : `${what}`;
  if (issue.code === "unrecognized_keys")
    throw new IssuerApiError("request_invalid", `The ${field} has a field this route does not take.`);
  if (issue.code === "invalid_type" && /received undefined$/.test(issue.message))
    throw new IssuerApiError("request_invalid", `The ${field} is missing.`);
  if (issue.code === "invalid_union")
    throw new IssuerApiError("request_invalid", `The ${field} does not match any accepted form.`);
  throw new IssuerApiError("request_invalid", `The ${field} is invalid.`);
}
