/**
 * Idempotency-Key handling (DESIGN.md "Conventions"). The key is reserved by INSERT in the same database
 * transaction as the effect, and the answer is stored in it before commit:
 * - a concurrent request with the same key blocks on the unique index until the first commits, then finds the
 *   stored answer and replays it, so concurrent requests with one key have exactly one effect;
 * - if the first request fails, its transaction (reservation included) rolls back and a retry runs afresh;
 *   failures are never stored, so a retry after a fixed bad request or an outage can succeed — except an outcome
 *   in doubt (OutcomePending: a card issuer that did not answer), whose answer is stored with what the work
 *   recorded, so the retry cannot run the operation twice.
 * Keys are scoped to (merchant, mode, route); the same key with another body or path is a 409
 * (idempotency_key_reused, final), a key whose first request has no answer yet a 409 idempotency_key_in_progress
 * (worth a retry).
 */
import { createHash } from "node:crypto";
import { and, eq, sql } from "drizzle-orm";
import { namedStatement } from "@mpay/service-kit";
import { queryRows, type Db, type Executor } from "../db/client.ts";
import { idempotencyKeys } from "./schema.ts";
import type { MerchantAuth } from "./caller.ts";
import { canonicalJson } from "@mpay/protocol";
import { ApiError, OutcomePending, errorBody } from "./errors.ts";

export interface StoredAnswer {
  statusCode: number;
  body: string;
  replayed: boolean;
}

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

export function requestFingerprint(params: unknown, body: unknown): string {
  // A JSON round trip first: Fastify's params object has its own prototype, and the body is plain JSON anyway.
  const plain = JSON.parse(JSON.stringify({ params: params ?? {}, body: body ?? {} })) as unknown;
  return createHash("sha256").update(canonicalJson(plain)).digest("hex");
}

/**
 * Runs `work` in one transaction, guarded by the idempotency key when one is given. `work` returns the status
 * and the JSON text to answer with; it is stored verbatim so a replay is byte-for-byte the first answer.
 */
export async function runIdempotent(
  db: Db,
  auth: MerchantAuth,
  route: string,
  key: string | undefined,
  fingerprint: string,
  work: (tx: Executor) => Promise<{ statusCode: number; body: string }>,
  options: { replayable: boolean } = { replayable: true },
): Promise<StoredAnswer> {
  if (key !== undefined && !KEY_PATTERN.test(key)) {
    throw new ApiError("idempotency_key_invalid", "Idempotency-Key must be 1 to 255 printable ASCII characters.");
  }
  return db.transaction(async (tx) => {
    if (key !== undefined) {
      const reserved = await tx
        .insert(idempotencyKeys)
        .values({ merchantId: auth.merchantId, mode: auth.mode, route, key, requestHash: fingerprint })
        .onConflictDoNothing()
        .returning({ key: idempotencyKeys.key });
      if (reserved.length === 0) return replay(tx, auth, route, key, fingerprint, options.replayable);
    }
    let answer: { statusCode: number; body: string };
    try {
      answer = await work(tx);
    } catch (error) {
      if (!(error instanceof OutcomePending)) throw error;
      // Commit what the work recorded (the operation in doubt) and keep this answer for the key, as Stripe keeps an
      // answer once work has started: a retry with the key replays it and never starts the operation a second time.
      // The outcome reaches the merchant on the payment and by webhook once the reconciler settles it.
      answer = { statusCode: error.apiError.statusCode, body: JSON.stringify(errorBody(error.apiError)) };
    }
    if (key !== undefined) {
      await tx
        .update(idempotencyKeys)
        // An answer that carries a new secret (a rolled API key) is never stored: keys live only as hashes.
        .set({ statusCode: answer.statusCode, response: options.replayable ? answer.body : "" })
        .where(keyIs(auth, route, key));
    }
    return { ...answer, replayed: false };
  });
}

/**
 * For work done in few statements (issue 11): the work reserves the key itself, in its first statement (the
 * `reserveKey` fragment as a CTE named `reserved`), and stores its answer with the effect (`storeAnswer`), so the
 * key costs no round trip of its own. The rules are runIdempotent's: the reservation commits with the effect, a
 * failure rolls both back, a taken key replays the stored answer (or says why not).
 */
export interface KeyScope {
  /** The fragments' placeholder values; with no Idempotency-Key, values that reserve and match nothing. */
  readonly values: Record<string, unknown>;
  readonly keyed: boolean;
}

/**
 * `insert into idempotency_keys … on conflict do nothing returning 1`, with the answer when it is known before the
 * statement runs (`keyStatus`, `keyResponse`; null otherwise). Placeholders: keyMerchant, keyMode, keyRoute, key,
 * keyHash, keyStatus, keyResponse.
 */
export const reserveKey = sql`insert into idempotency_keys (merchant_id, mode, route, key, request_hash, status_code, response)
  values (${sql.placeholder("keyMerchant")}, ${sql.placeholder("keyMode")}, ${sql.placeholder("keyRoute")},
          ${sql.placeholder("key")}, ${sql.placeholder("keyHash")}, ${sql.placeholder("keyStatus")}::int4,
          ${sql.placeholder("keyResponse")})
  on conflict do nothing returning 1`;

/** `update idempotency_keys set …` with the answer (keyStatus, keyResponse); matches nothing without a key. */
export const storeAnswer = sql`update idempotency_keys set status_code = ${sql.placeholder("keyStatus")}::int4,
    response = ${sql.placeholder("keyResponse")}
  where merchant_id = ${sql.placeholder("keyMerchant")} and mode = ${sql.placeholder("keyMode")}
    and route = ${sql.placeholder("keyRoute")} and key = ${sql.placeholder("key")}`;

const storeAnswerAlone = namedStatement("idempotency_store_answer", storeAnswer);
const reserveAlone = namedStatement("idempotency_reserve", reserveKey);

/** Reserves the key in a statement of its own (work that cannot fold it into its first); false when taken. */
export async function reserveKeyAlone(db: Executor, scope: KeyScope): Promise<boolean> {
  if (!scope.keyed) return true;
  const rows = await reserveAlone.run(db, { ...scope.values, keyStatus: null, keyResponse: null });
  return rows.length === 1;
}

/** Stores the answer of a key the work reserved, in a statement of its own; nothing without a key. */
export async function storeKeyAnswer(
  db: Executor,
  scope: KeyScope,
  answer: { statusCode: number; body: string },
): Promise<void> {
  if (scope.keyed) await storeAnswerAlone.run(db, { ...scope.values, ...answerValues(answer) });
}

/** The answer as the key keeps it (placeholders keyStatus and keyResponse). */
export function answerValues(answer: { statusCode: number; body: string }): Record<string, unknown> {
  return { keyStatus: answer.statusCode, keyResponse: answer.body };
}

function scopeOf(auth: MerchantAuth, route: string, key: string | undefined, fingerprint: string): KeyScope {
  return {
    keyed: key !== undefined,
    values: {
      keyMerchant: auth.merchantId,
      keyMode: auth.mode,
      keyRoute: route,
      key: key ?? null,
      keyHash: fingerprint,
    },
  };
}

/**
 * Runs `work`, which reserves the key and stores its answer in its own statements (see KeyScope); it returns null
 * when the key was taken (reserved nothing). With `transaction: false` the work is one autocommit statement.
 * Errors before the work's first statement (bad input) are answered as runIdempotent would: a key already used
 * replays or is refused before the input is looked at.
 */
export async function runIdempotentInline(
  db: Db,
  auth: MerchantAuth,
  route: string,
  key: string | undefined,
  fingerprint: string,
  work: (db: Executor, scope: KeyScope) => Promise<{ statusCode: number; body: string } | null>,
  options: { transaction: boolean },
): Promise<StoredAnswer> {
  if (key !== undefined && !KEY_PATTERN.test(key)) {
    throw new ApiError("idempotency_key_invalid", "Idempotency-Key must be 1 to 255 printable ASCII characters.");
  }
  const scope = scopeOf(auth, route, key, fingerprint);
  const run = async (ex: Executor): Promise<StoredAnswer> => {
    let answer: { statusCode: number; body: string } | null;
    try {
      answer = await work(ex, scope);
    } catch (error) {
      if (!(error instanceof OutcomePending)) throw error;
      // As runIdempotent: the operation in doubt commits, and the key keeps this answer (reserved by the work).
      answer = { statusCode: error.apiError.statusCode, body: JSON.stringify(errorBody(error.apiError)) };
      await storeKeyAnswer(ex, scope, answer);
    }
    if (answer === null) {
      if (key === undefined) throw new Error("work without an Idempotency-Key reported the key taken");
      return replay(ex, auth, route, key, fingerprint, true);
    }
    return { ...answer, replayed: false };
  };
  if (options.transaction) return db.transaction(run);
  try {
    return await run(db);
  } catch (error) {
    if (key === undefined || !(error instanceof ApiError)) throw error;
    const [row] = await db
      .select({ key: idempotencyKeys.key })
      .from(idempotencyKeys)
      .where(keyIs(auth, route, key));
    if (!row) throw error;
    return replay(db, auth, route, key, fingerprint, true);
  }
}

function keyIs(auth: MerchantAuth, route: string, key: string) {
  return and(
    eq(idempotencyKeys.merchantId, auth.merchantId),
    eq(idempotencyKeys.mode, auth.mode),
    eq(idempotencyKeys.route, route),
    eq(idempotencyKeys.key, key),
  );
}

async function replay(
  tx: Executor,
  auth: MerchantAuth,
  route: string,
  key: string,
  fingerprint: string,
  replayable: boolean,
): Promise<StoredAnswer> {
  const [row] = await tx
    .select()
    .from(idempotencyKeys)
    .where(keyIs(auth, route, key));
  if (!row || row.statusCode === null || row.response === null) {
    // Cannot happen while reservation and answer commit together; kept as a clear error rather than a guess.
    throw new ApiError(
      "idempotency_key_in_progress",
      "A request with this Idempotency-Key is still in progress; retry shortly with the same key.",
    );
  }
  if (row.requestHash !== fingerprint) {
    throw new ApiError(
      "idempotency_key_reused",
      "This Idempotency-Key was already used with a different request; use a new key for a new request.",
    );
  }
  if (!replayable) {
    throw new ApiError(
      "idempotency_key_reused",
      "The request with this Idempotency-Key already succeeded; its answer held a new secret, which is shown only once.",
    );
  }
  return { statusCode: row.statusCode, body: row.response, replayed: true };
}

/** Keys older than this are forgotten (Stripe keeps them 24 hours). */
export const IDEMPOTENCY_RETENTION_HOURS = 24;

/** Deletes keys past their retention, a bounded batch at a time; returns how many went. */
export async function purgeIdempotencyKeys(db: Executor, now = new Date(), batch = 1000): Promise<number> {
  const cutoff = new Date(now.getTime() - IDEMPOTENCY_RETENTION_HOURS * 3600_000);
  const rows = await queryRows<{ n: number }>(
    db,
    sql`with gone as (
          delete from idempotency_keys where ctid in (select ctid from idempotency_keys where created_at < ${cutoff} limit ${batch})
          returning 1)
        select count(*)::int as n from gone`,
  );
  return Number(rows[0]?.n ?? 0);
}
