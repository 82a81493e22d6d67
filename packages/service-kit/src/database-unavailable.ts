/**
 * Whether an error means "the database cannot take this statement right now" rather than "this statement is wrong":
 * a primary failing over, a connection that died under the query, a demoted primary refusing writes, too many
 * connections. Such a request committed nothing it could not redo, and the caller should retry with the same
 * Idempotency-Key: the pay server answers 503 `database_unavailable`, not 500 `internal_error` (the failover drill
 * saw 500s for the 9 s the standby took to be promoted).
 *
 * drizzle wraps the driver's error (`DrizzleQueryError`, the driver's in `cause`), so the chain is walked.
 */

/** SQLSTATEs of a database that is going away, not of a statement that is wrong. */
const UNAVAILABLE_STATES = new Set([
  "25006", // read_only_sql_transaction: the old primary, now a standby
  "53300", // too_many_connections
  "57P01", // admin_shutdown
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now (starting up, or a standby being promoted)
]);

/** node-postgres's own messages when a connection ends or cannot be made in time (it gives them no code). */
const DRIVER_MESSAGES = [
  "Connection terminated unexpectedly",
  "Connection terminated",
  "timeout exceeded when trying to connect",
  "Client has encountered a connection error and is not queryable",
];

const SOCKET_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH"]);

export function isDatabaseUnavailable(error: unknown): boolean {
  let underQuery = false;
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (code === "database_no_writable_host") return true;
    if (typeof code === "string" && (UNAVAILABLE_STATES.has(code) || code.startsWith("08"))) return true;
    if (DRIVER_MESSAGES.includes(e.message)) return true;
    // A refused or reset socket is the database's only under drizzle's wrapper of a query: a `fetch failed` to an
    // issuer carries the same codes in its cause, and is the issuer's outage, not ours.
    if (underQuery && typeof code === "string" && SOCKET_CODES.has(code)) return true;
    underQuery ||= e.name === "DrizzleQueryError" || typeof (e as { query?: unknown }).query === "string";
  }
  return false;
}
