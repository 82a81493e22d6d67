/**
 * fast-check arbitraries made from /openapi.json (issue 12): a value that fits an operation's JSON Schema, and the
 * same value bent the ways a careless or hostile client bends it (wrong types, huge and unicode strings, nulls,
 * extra fields, deep nesting). The generator knows only the document, so a new route is fuzzed without anyone
 * writing a case for it.
 */
import fc from "fast-check";

export type JsonSchema = { [key: string]: unknown };
/** The parts of the OpenAPI document the fuzzer reads. */
export interface OpenApiDoc {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas?: Record<string, JsonSchema>; parameters?: Record<string, Parameter> };
}
export interface Operation {
  operationId?: string;
  security?: Array<Record<string, string[]>>;
  parameters?: Array<Parameter | { $ref: string }>;
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
}
export interface Parameter {
  in: "path" | "query" | "header" | "cookie";
  name: string;
  required?: boolean;
  schema?: JsonSchema;
}

/** Strings a JSON Schema's length bounds allow, kept short unless the schema insists. */
const CAP = 40;

function resolve(doc: OpenApiDoc, schema: JsonSchema): JsonSchema {
  const ref = schema["$ref"];
  if (typeof ref !== "string") return schema;
  const name = ref.replace("#/components/schemas/", "");
  return doc.components.schemas?.[name] ?? {};
}

const num = (value: unknown): number | undefined => (typeof value === "number" ? value : undefined);

function stringOf(schema: JsonSchema): fc.Arbitrary<string> {
  const pattern = schema["pattern"];
  if (typeof pattern === "string") {
    try {
      return fc.stringMatching(new RegExp(pattern)).filter((s) => s.length <= 2048);
    } catch {
      // A pattern fast-check cannot walk (lookbehind, …): any string, and the server's validation decides.
    }
  }
  if (schema["format"] === "date-time")
    return fc
      .date({ min: new Date("2000-01-01"), max: new Date("2100-01-01"), noInvalidDate: true })
      .map((d) => d.toISOString());
  if (schema["format"] === "uri") return fc.webUrl();
  if (schema["format"] === "email") return fc.emailAddress();
  const minLength = num(schema["minLength"]) ?? 0;
  const maxLength = Math.max(minLength, Math.min(num(schema["maxLength"]) ?? CAP, CAP));
  return fc.string({ minLength, maxLength });
}

function integerOf(schema: JsonSchema): fc.Arbitrary<number> {
  const exclusive = num(schema["exclusiveMinimum"]);
  const min = num(schema["minimum"]) ?? (exclusive !== undefined ? exclusive + 1 : -1_000_000);
  const max = Math.min(num(schema["maximum"]) ?? 1_000_000_000, Number.MAX_SAFE_INTEGER);
  // Small values most of the time: they are the ones a real merchant sends.
  return fc.oneof(
    { weight: 3, arbitrary: fc.integer({ min, max: Math.min(max, min + 100_000) }) },
    fc.integer({ min, max }),
  );
}

/** A value that fits `schema` (as far as JSON Schema says; the routes' own rules may still refuse it). */
export function valueOf(doc: OpenApiDoc, raw: JsonSchema, depth = 0): fc.Arbitrary<unknown> {
  const schema = resolve(doc, raw);
  if ("const" in schema) return fc.constant(schema["const"]);
  if (Array.isArray(schema["enum"])) return fc.constantFrom(...(schema["enum"] as unknown[]));
  const choices = (schema["anyOf"] ?? schema["oneOf"]) as JsonSchema[] | undefined;
  if (Array.isArray(choices) && choices.length > 0) return fc.oneof(...choices.map((c) => valueOf(doc, c, depth)));
  const type = schema["type"];
  if (Array.isArray(type)) return fc.oneof(...type.map((t) => valueOf(doc, { ...schema, type: t }, depth)));
  switch (type) {
    case "string":
      return stringOf(schema);
    case "integer":
      return integerOf(schema);
    case "number":
      return fc.double({
        noNaN: true,
        noDefaultInfinity: true,
        min: num(schema["minimum"]),
        max: num(schema["maximum"]),
      });
    case "boolean":
      return fc.boolean();
    case "null":
      return fc.constant(null);
    case "array": {
      if (depth > 6) return fc.constant([]);
      const items = (schema["items"] as JsonSchema | undefined) ?? {};
      const maxLength = Math.min(num(schema["maxItems"]) ?? 3, 3);
      return fc.array(valueOf(doc, items, depth + 1), { minLength: num(schema["minItems"]) ?? 0, maxLength });
    }
    case "object":
      return objectOf(doc, schema, depth);
    default:
      return schema["properties"] ? objectOf(doc, schema, depth) : fc.jsonValue({ maxDepth: 2 });
  }
}

function objectOf(doc: OpenApiDoc, schema: JsonSchema, depth: number): fc.Arbitrary<unknown> {
  if (depth > 6) return fc.constant({});
  const properties = (schema["properties"] as Record<string, JsonSchema> | undefined) ?? {};
  const required = (schema["required"] as string[] | undefined) ?? [];
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [name, property] of Object.entries(properties)) model[name] = valueOf(doc, property, depth + 1);
  const record = fc.record(model, { requiredKeys: required.filter((name) => name in properties) });
  const extra = schema["additionalProperties"];
  if (extra && typeof extra === "object")
    return fc
      .tuple(
        record,
        fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }), valueOf(doc, extra as JsonSchema, depth + 1), {
          maxKeys: 2,
        }),
      )
      .map(([known, more]) => ({ ...more, ...known }));
  return record;
}

/** Nested `depth` deep: arrays and objects alternating, the shape that overflows a recursive validator. */
export function nested(depth: number): unknown {
  let value: unknown = "bottom";
  for (let i = 0; i < depth; i += 1) value = i % 2 === 0 ? [value] : { a: value };
  return value;
}

/** Strings that have broken parsers, logs and SQL before. */
const NASTY = [
  "",
  " ",
  "\u0000",
  "\u202e\u0645\u0631\u062d\u0628\u0627",
  "😀👨‍👩‍👧‍👦",
  "\ud800",
  "null",
  "undefined",
  "__proto__",
  "constructor",
  "<script>alert(1)</script>",
  "'; drop table payments; --",
  "../../../../etc/passwd",
  "${jndi:ldap://x}",
  "%00%2e%2e%2f",
  "1e309",
  "-0",
  "NaN",
  "0x10",
  "\r\nX-Injected: 1",
];

/** A value of the wrong kind for almost any field. */
export const weirdValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double(),
  fc.constantFrom(-0, 1e308, -1e308, 2 ** 53, 2 ** 64, 0.1, Number.MIN_VALUE, -1),
  fc.constantFrom(...NASTY),
  fc.string({ unit: "binary", maxLength: 30 }),
  fc.string({ unit: "grapheme", maxLength: 30 }),
  fc.integer({ min: 100, max: 20_000 }).map((n) => "x".repeat(n)),
  fc.integer({ min: 10, max: 3000 }).map(nested),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 4 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }),
);

type Mutation =
  | { kind: "none" }
  | { kind: "replace"; at: number; value: unknown }
  | { kind: "drop"; at: number }
  | { kind: "extra"; at: number; name: string; value: unknown }
  | { kind: "whole"; value: unknown };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 3, arbitrary: fc.constant<Mutation>({ kind: "none" }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("replace" as const), at: fc.nat(), value: weirdValue }) },
  fc.record({ kind: fc.constant("drop" as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant("extra" as const),
    at: fc.nat(),
    name: fc.oneof(fc.string({ minLength: 1, maxLength: 20 }), fc.constantFrom("__proto__", "constructor", "id")),
    value: weirdValue,
  }),
  fc.record({ kind: fc.constant("whole" as const), value: weirdValue }),
);

/** Every object inside `value` (itself first), to pick one by index. */
function objectsIn(value: unknown, found: Array<Record<string, unknown>> = []): Array<Record<string, unknown>> {
  if (value && typeof value === "object" && found.length < 50) {
    if (!Array.isArray(value)) found.push(value as Record<string, unknown>);
    for (const child of Object.values(value)) objectsIn(child, found);
  }
  return found;
}

function mutate(value: unknown, change: Mutation): unknown {
  if (change.kind === "none") return value;
  if (change.kind === "whole") return change.value;
  const copy = structuredClone(value);
  const objects = objectsIn(copy);
  const target = objects[change.at % Math.max(objects.length, 1)];
  if (!target) return change.kind === "extra" ? change.value : copy;
  const keys = Object.keys(target);
  const key = keys[change.at % Math.max(keys.length, 1)];
  if (change.kind === "extra") Object.defineProperty(target, change.name, { value: change.value, enumerable: true });
  else if (key === undefined) return copy;
  else if (change.kind === "drop") delete target[key];
  else target[key] = change.value;
  return copy;
}

/** A body for `schema`: valid as the document says, or bent by one mutation. */
export function bodyOf(doc: OpenApiDoc, schema: JsonSchema): fc.Arbitrary<unknown> {
  return fc.tuple(valueOf(doc, schema), mutation).map(([value, change]) => mutate(value, change));
}

/** encodeURIComponent that does not throw on a lone surrogate (the binary strings make them): it becomes U+FFFD. */
export const encode = (text: string): string =>
  encodeURIComponent(text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "\ufffd"));

/** A path parameter: a real id when there is one, a well-formed id of no resource, or something odd (encoded). */
export function pathParameter(realIds: readonly string[]): fc.Arbitrary<string> {
  const id = (prefix: string) => fc.stringMatching(/^[0-9A-Z]{26}$/).map((rest) => `${prefix}_${rest}`);
  const odd = fc.oneof(
    fc.constantFrom(...NASTY.filter((s) => s !== "")),
    fc.string({ unit: "grapheme", minLength: 1, maxLength: 30 }),
    fc.string({ unit: "binary", minLength: 1, maxLength: 20 }),
    fc.integer({ min: 27, max: 99 }).map((n) => `pay_${"A".repeat(n)}`),
  );
  return fc.oneof(
    ...(realIds.length > 0 ? [{ weight: 3, arbitrary: fc.constantFrom(...realIds) }] : []),
    { weight: 2, arbitrary: fc.constantFrom("pay", "rfd", "we", "evt", "rmd", "whd", "dev", "card").chain(id) },
    { weight: 2, arbitrary: odd.map(encode) },
    // Sent as they are: percent-encoding that does not decode, and parameters past Fastify's 100-character limit.
    fc.constantFrom("%zz", "%", "%E0%A4%A", "%C0%AF", "%FF", "a%00b"),
    fc.integer({ min: 90, max: 400 }).map((n) => "A".repeat(n)),
  );
}

/** A query string for `parameters`: each present or not, valid or odd, sometimes repeated or unknown. */
export function queryOf(doc: OpenApiDoc, parameters: readonly Parameter[]): fc.Arbitrary<string> {
  const entries = parameters.map((p) =>
    fc.option(
      fc.oneof(
        { weight: 3, arbitrary: valueOf(doc, p.schema ?? {}).map((v) => [[p.name, String(v)]]) },
        weirdValue.filter((v) => typeof v !== "object" || v === null).map((v) => [[p.name, String(v)]]),
        fc.tuple(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 })).map(([a, b]) => [
          [p.name, a],
          [p.name, b],
        ]),
      ),
      { freq: 2 },
    ),
  );
  const unknown = fc.option(fc.tuple(fc.string({ minLength: 1, maxLength: 10 }), fc.string({ maxLength: 10 })), {
    freq: 5,
  });
  return fc.tuple(fc.tuple(...entries), unknown).map(([chosen, extra]) => {
    const pairs = chosen.flatMap((c) => c ?? []);
    if (extra) pairs.push(extra);
    return pairs.map(([k, v]) => `${encode(k ?? "")}=${encode(v ?? "")}`).join("&");
  });
}

/** An Idempotency-Key header: none, a fresh one, a reused one, or one the server must refuse. */
export const idempotencyKey: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 3, arbitrary: fc.constant(undefined) },
  { weight: 2, arbitrary: fc.uuid() },
  fc.constantFrom("fuzz-reused-key", "", " ", "a".repeat(256), "a".repeat(255), "key with spaces", "ключ", "\t"),
  fc.string({ unit: "binary-ascii", minLength: 1, maxLength: 40 }),
);

/** A header value Node's HTTP stack can carry (latin-1, no control characters but tab). */
export const headerSafe = (value: string): string => value.replace(/[^\t\x20-\x7e\x80-\xff]/g, "?");
