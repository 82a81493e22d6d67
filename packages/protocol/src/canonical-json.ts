/**
 * Deterministic JSON for hashing: the audit chain's entries (which outside verifiers recompute from an export) and
 * the Idempotency-Key request fingerprint. A leaf of the protocol so that every side computes the same bytes.
 */

/**
 * Deterministic JSON: object keys sorted by UTF-16 code unit, no whitespace, numbers in ECMAScript's shortest
 * form; for plain JSON data this is RFC 8785 (JCS). Anything JSON would silently change is refused instead
 * (NaN → null, undefined in an array → null, a Date or Map → something else), because an entry must hash the
 * same after a round trip through the database's jsonb. Undefined object properties are dropped, as JSON does.
 * Errors name the path, never the value (audit data is still data about people).
 */
export function canonicalJson(value: unknown): string {
  return write(value, "$", new Set());
}

function write(value: unknown, path: string, open: Set<object>): string {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "boolean":
      return value ? "true" : "false";
    case "number":
      if (!Number.isFinite(value)) throw new TypeError(`canonicalJson: ${path} is not a finite number`);
      return JSON.stringify(value); // shortest round-trip form; -0 becomes 0, as JCS says
    case "object":
      return value === null ? "null" : writeContainer(value, path, open);
    default:
      throw new TypeError(`canonicalJson: ${path} is ${typeof value}, which JSON cannot hold`);
  }
}

function writeContainer(value: object, path: string, open: Set<object>): string {
  if (open.has(value)) throw new TypeError(`canonicalJson: ${path} contains itself`);
  open.add(value);
  try {
    // Array.from visits holes as undefined, so a sparse array is refused instead of printing "[1,,2]".
    if (Array.isArray(value))
      return `[${Array.from(value, (item: unknown, i) => write(item, `${path}[${i}]`, open)).join(",")}]`;
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      throw new TypeError(`canonicalJson: ${path} is not a plain object (convert a Date to its ISO string first)`);
    }
    const record = value as Record<string, unknown>;
    const members: string[] = [];
    for (const key of Object.keys(record).sort()) {
      const item = record[key];
      if (item !== undefined) members.push(`${JSON.stringify(key)}:${write(item, `${path}.${key}`, open)}`);
    }
    return `{${members.join(",")}}`;
  } finally {
    open.delete(value);
  }
}
