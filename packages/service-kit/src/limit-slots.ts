/**
 * Race-free limits: "at most `max` per subject within `windowSeconds`", where each use **claims its slot before the
 * work** (issue 7, hole 3). Counting the uses and inserting one after the work lets every concurrent request see
 * the same count: 30 concurrent guesses tested 12 CVCs against a limit of 5. Here a claim locks each subject
 * (a transaction-level advisory lock on the subject's name), counts its slots in the sliding window, and inserts
 * the new slots only when every subject has room — all in one transaction, so of N concurrent claims against a
 * limit L exactly L succeed, across connections and processes. The lock is released at commit, after the slot is
 * visible, so the next claim of that subject counts it.
 *
 * Why advisory locks and not a counter row per subject: a sliding window needs the time of each use (a fixed
 * window lets 2L through around its edge), and an advisory lock needs no row to exist before the first claim. Why
 * one rule for every limit: a limit with its own count-then-insert is the race that issue 7 found, written again.
 *
 * Each service keeps its slots in a table of its own (`limitSlotsTable`), so no service reads another's rows; the
 * rule, the SQL and the lock are this file's. `now` is the caller's clock (a drill moves it).
 */
import { getTableName, sql, type SQL } from "drizzle-orm";
import { bigserial, index, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { queryRows } from "./database.ts";

/** The table of one service's slots: one row per claimed use. */
export function limitSlotsTable<N extends string>(name: N) {
  return pgTable(
    name,
    {
      id: bigserial("id", { mode: "number" }).primaryKey(),
      /** Who is limited, e.g. `payer:usr_…`, `device:<kid>`, `card:<keyed hash of the PAN>`; never a secret in clear. */
      subject: text("subject").notNull(),
      /** What is counted (`failure`, `code_sent`, `try`): each kind has its own budget per subject. */
      kind: text("kind").notNull(),
      /** When the slot was claimed, on the service's clock. */
      at: timestamp("at", { withTimezone: true, mode: "date" }).notNull(),
    },
    (t) => [index(`${name}_subject`).on(t.subject, t.kind, t.at)],
  );
}

export type LimitSlotsTable = ReturnType<typeof limitSlotsTable<string>>;

/** One limit a claim must fit: at most `max` slots of `kind` for `subject` within the last `windowSeconds`. */
export interface SlotLimit {
  subject: string;
  kind: string;
  max: number;
  windowSeconds: number;
}

/** A claimed slot; give it back with `release` when the use turned out not to count (a right answer). */
export interface Slot {
  readonly id: number;
  readonly subject: string;
  readonly kind: string;
}

/**
 * A database handle or an open transaction of either driver (drizzle's, over node-postgres or PGlite). In a
 * transaction, `transaction` is a savepoint, and the subject locks last until the outer transaction ends.
 */
export interface SqlSession {
  execute(query: SQL): Promise<unknown>;
  transaction<T>(run: (tx: SqlSession) => Promise<T>): Promise<T>;
}

export class LimitSlots {
  constructor(private readonly table: LimitSlotsTable) {}

  /**
   * Claims one slot under every limit, or none: null when any limit is used up (then nothing is written). Run it
   * on the pool, or inside the caller's transaction when the work must hold the subjects until it commits (on
   * PGlite, a claim on the pool while a transaction is open would wait for it forever).
   */
  async claim(db: SqlSession, limits: readonly SlotLimit[], now: Date): Promise<Slot[] | null> {
    if (limits.length === 0) return [];
    return db.transaction(async (tx) => {
      // A fixed order of locks, so two claims over the same subjects never wait for each other in a cycle.
      for (const subject of [...new Set(limits.map((l) => l.subject))].sort()) {
        await tx.execute(
          sql`select pg_advisory_xact_lock(hashtextextended(current_schema() || ${`|${getTableName(this.table)}|${subject}`}, 0))`,
        );
      }
      for (const limit of limits) {
        if ((await this.#used(tx, limit, now)) >= limit.max) return null;
      }
      const { table } = this;
      const values = sql.join(
        limits.map((l) => sql`(${l.subject}, ${l.kind}, ${now})`),
        sql`, `,
      );
      const rows = await queryRows<{ id: number | string; subject: string; kind: string }>(
        tx,
        sql`insert into ${table} (${sql.identifier(table.subject.name)}, ${sql.identifier(table.kind.name)}, ${sql.identifier(table.at.name)})
            values ${values} returning ${table.id}, ${table.subject}, ${table.kind}`,
      );
      return rows.map((row) => ({ id: Number(row.id), subject: row.subject, kind: row.kind }));
    });
  }

  /** Gives slots back (the use did not count after all). Needs no lock: fewer slots never let a claim through wrongly. */
  async release(db: SqlSession, slots: readonly Slot[]): Promise<void> {
    if (slots.length === 0) return;
    const ids = sql.join(
      slots.map((s) => sql`${s.id}`),
      sql`, `,
    );
    await db.execute(sql`delete from ${this.table} where ${this.table.id} in (${ids})`);
  }

  /** Forgets every slot of `kind` for `subject` (a success that forgives earlier failures). */
  async forget(db: SqlSession, subject: string, kind: string): Promise<void> {
    const { table } = this;
    await db.execute(sql`delete from ${table} where ${table.subject} = ${subject} and ${table.kind} = ${kind}`);
  }

  /** Slots of `limit` still inside its window at `now`. */
  used(db: SqlSession, limit: Omit<SlotLimit, "max">, now: Date): Promise<number> {
    return this.#used(db, limit, now);
  }

  /** Deletes slots claimed before `before` (older than every window); returns how many. */
  async sweep(db: SqlSession, before: Date): Promise<number> {
    const rows = await queryRows<{ id: number }>(
      db,
      sql`delete from ${this.table} where ${this.table.at} < ${before} returning ${this.table.id}`,
    );
    return rows.length;
  }

  async #used(db: SqlSession, limit: Omit<SlotLimit, "max">, now: Date): Promise<number> {
    const { table } = this;
    const since = new Date(now.getTime() - limit.windowSeconds * 1000);
    const [row] = await queryRows<{ n: number | string }>(
      db,
      sql`select count(*)::int as n from ${table} where ${table.subject} = ${limit.subject} and ${table.kind} = ${limit.kind} and ${table.at} > ${since}`,
    );
    return Number(row?.n ?? 0);
  }
}
