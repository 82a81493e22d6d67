import { sql, type SQL } from "drizzle-orm";
import { namedStatement, type NamedStatement } from "@mpay/service-kit";
import { queryRows, type Executor } from "../db/client.ts";
import type { Posting } from "./accounts.ts";

/** How many rows each account's balance is spread over (see ledgerBalances in ledger/schema.ts). */
export const BALANCE_SLOTS = 16;

/**
 * A posting of `lines` lines as CTEs (`ledger_tx`, `ledger_lines`, `ledger_slots`): the transaction row, its entries
 * and the balance updates, so a ledger write costs no round trip of its own inside the caller's statement. All lines
 * of a posting update the same slot, in account order, so two concurrent postings lock rows in the same order and
 * never deadlock. Placeholders: ledgerTx, ledgerMerchant, ledgerMode, ledgerKind, ledgerPayment, ledgerRefund,
 * ledgerSlot, and ledgerAccount<i>, ledgerCurrency<i>, ledgerAmount<i> per line. With `condition`, the posting is
 * written only if it holds (a guarded change in an earlier CTE of the caller's statement).
 */
export function postingCtes(lines: number, condition?: SQL): SQL {
  const p = (name: string) => sql.placeholder(name);
  const entries = sql.join(
    Array.from(
      { length: lines },
      (_, i) =>
        sql`(${p("ledgerTx")}, ${p("ledgerMerchant")}, ${p(`ledgerAccount${i}`)}, ${p(`ledgerCurrency${i}`)}, ${p(`ledgerAmount${i}`)}::int8)`,
    ),
    sql`, `,
  );
  const transaction = sql`(${p("ledgerTx")}, ${p("ledgerMerchant")}, ${p("ledgerMode")}, ${p("ledgerKind")}, ${p("ledgerPayment")}, ${p("ledgerRefund")})`;
  // With a condition, each insert takes its rows from VALUES only if it holds (no rows, no balance update).
  const rows = (values: SQL) =>
    condition ? sql`select * from (values ${values}) as v where ${condition}` : sql`values ${values}`;
  return sql`ledger_tx as (
      insert into ledger_transactions (id, merchant_id, mode, kind, payment_id, refund_id)
      ${rows(transaction)}
    ), ledger_lines as (
      insert into ledger_entries (transaction_id, merchant_id, account, currency, amount)
      ${rows(entries)}
      returning account, currency, amount
    ), ledger_slots as (
      insert into ledger_balances (account, currency, slot, merchant_id, balance)
      select account, currency, ${p("ledgerSlot")}::int2, ${p("ledgerMerchant")}, sum(amount)::int8 from ledger_lines
      group by account, currency order by account, currency
      on conflict (account, currency, slot) do update set balance = ledger_balances.balance + excluded.balance, updated_at = now()
    )`;
}

/** The placeholder values of postingCtes(p.lines.length). */
export function postingValues(transactionId: string, p: Posting, slot: number): Record<string, unknown> {
  const values: Record<string, unknown> = {
    ledgerTx: transactionId,
    ledgerMerchant: p.merchantId,
    ledgerMode: p.mode,
    ledgerKind: p.kind,
    ledgerPayment: p.paymentId,
    ledgerRefund: p.refundId ?? null,
    ledgerSlot: slot,
  };
  p.lines.forEach((l, i) => {
    values[`ledgerAccount${i}`] = l.account;
    values[`ledgerCurrency${i}`] = l.currency;
    values[`ledgerAmount${i}`] = l.amount;
  });
  return values;
}

/** One named statement per number of lines (postings have two, or four for a capture), made on first use. */
const postingStatements = new Map<number, NamedStatement<unknown>>();

/** Writes a posting in ONE statement (postingCtes) inside the caller's database transaction. */
export async function insertPosting(db: Executor, transactionId: string, p: Posting, slot: number): Promise<void> {
  const n = p.lines.length;
  let statement = postingStatements.get(n);
  if (!statement) {
    statement = namedStatement(`ledger_post_${n}`, sql`with ${postingCtes(n)} select 1`);
    postingStatements.set(n, statement);
  }
  await statement.run(db, postingValues(transactionId, p, slot));
}

export interface BalanceRow {
  account: string;
  currency: string;
  balance: number;
}

export async function balancesOf(db: Executor, merchantId: string): Promise<BalanceRow[]> {
  const rows = await queryRows<{ account: string; currency: string; balance: string }>(
    db,
    sql`
    select account, currency, sum(balance)::text as balance from ledger_balances
    where merchant_id = ${merchantId} group by account, currency order by account, currency`,
  );
  return rows.map((r) => ({ ...r, balance: Number(r.balance) }));
}

export interface LedgerProblem {
  kind: "unbalanced_transaction" | "empty_transaction" | "balance_mismatch";
  ref: string;
  currency?: string;
  detail: string;
}

/** Every check of `mpay ledger verify`, each a single scan, done by the database where the data is. */
export async function findProblems(db: Executor): Promise<LedgerProblem[]> {
  const problems: LedgerProblem[] = [];
  const unbalanced = await queryRows<{ transaction_id: string; currency: string; total: string }>(
    db,
    sql`
    select transaction_id, currency, sum(amount)::text as total from ledger_entries
    group by transaction_id, currency having sum(amount) <> 0 order by transaction_id`,
  );
  for (const r of unbalanced) {
    problems.push({
      kind: "unbalanced_transaction",
      ref: r.transaction_id,
      currency: r.currency,
      detail: `entries sum to ${r.total}, not 0`,
    });
  }
  const empty = await queryRows<{ id: string }>(
    db,
    sql`
    select t.id from ledger_transactions t where not exists (select 1 from ledger_entries e where e.transaction_id = t.id)`,
  );
  for (const r of empty) {
    problems.push({ kind: "empty_transaction", ref: r.id, detail: "transaction has no entries" });
  }
  const mismatched = await queryRows<{
    account: string;
    currency: string;
    balance: string | null;
    total: string | null;
  }>(
    db,
    sql`
    with sums as (select account, currency, sum(amount) as total from ledger_entries group by account, currency),
         balances as (select account, currency, sum(balance) as balance from ledger_balances group by account, currency)
    select coalesce(b.account, s.account) as account, coalesce(b.currency, s.currency) as currency,
           b.balance::text as balance, s.total::text as total
    from balances b full outer join sums s on s.account = b.account and s.currency = b.currency
    where b.balance is distinct from s.total`,
  );
  for (const r of mismatched) {
    problems.push({
      kind: "balance_mismatch",
      ref: r.account,
      currency: r.currency,
      detail: `stored balance ${r.balance ?? "missing"} but entries sum to ${r.total ?? "nothing"}`,
    });
  }
  return problems;
}

export async function countTransactions(db: Executor): Promise<{ transactions: number; entries: number }> {
  const [row] = await queryRows<{ transactions: number; entries: number }>(
    db,
    sql`
    select (select count(*) from ledger_transactions)::int as transactions, (select count(*) from ledger_entries)::int as entries`,
  );
  if (!row) throw new Error("count query returned no row");
  return { transactions: Number(row.transactions), entries: Number(row.entries) };
}

export interface DailyMovementRow {
  /** `YYYY-MM-DD` in the report's time zone. */
  day: string;
  kind: "authorization" | "capture" | "refund";
  /** Postings of that kind that day. */
  count: number;
  /** Their money, positive: held for authorizations, owed to the merchant for captures, given back for refunds. */
  amount: number;
}

/**
 * One merchant's and mode's postings per day (in `timeZone`) and kind, in one currency, from `fromDay` on. Each
 * kind is summed on the one account that measures it: issuer_authorized for a hold, issuer_receivable for a capture,
 * merchant_payable for a refund (ledger/accounts.ts).
 */
export async function dailyMovements(
  db: Executor,
  f: { merchantId: string; mode: string; currency: string; fromDay: string; timeZone: string },
): Promise<DailyMovementRow[]> {
  const account = (kind: string) => `${f.merchantId}:${f.mode}:${kind}`;
  const rows = await queryRows<{ day: string; kind: DailyMovementRow["kind"]; count: string; amount: string }>(
    db,
    sql`
    select to_char((t.created_at at time zone ${f.timeZone})::date, 'YYYY-MM-DD') as day, t.kind,
           count(*)::text as count, abs(sum(e.amount))::text as amount
    from ledger_transactions t join ledger_entries e on e.transaction_id = t.id
    where t.merchant_id = ${f.merchantId} and t.mode = ${f.mode} and e.currency = ${f.currency}
      and (t.created_at at time zone ${f.timeZone})::date >= ${f.fromDay}::date
      -- the same bound on created_at itself, so that ledger_transactions_merchant_day can range over it
      and t.created_at >= (${f.fromDay}::date)::timestamp at time zone ${f.timeZone}
      and ((t.kind = 'authorization' and e.account = ${account("issuer_authorized")})
        or (t.kind = 'capture' and e.account = ${account("issuer_receivable")})
        or (t.kind = 'refund' and e.account = ${account("merchant_payable")}))
    group by 1, 2 order by 1, 2`,
  );
  return rows.map((r) => ({ day: r.day, kind: r.kind, count: Number(r.count), amount: Number(r.amount) }));
}
