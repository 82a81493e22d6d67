import { newId } from "@mpay/protocol";
import type { Executor } from "../db/client.ts";
import { assertBalanced, type Posting } from "./accounts.ts";
import {
  BALANCE_SLOTS,
  balancesOf,
  countTransactions,
  dailyMovements,
  findProblems,
  insertPosting,
  postingValues,
  type BalanceRow,
  type DailyMovementRow,
  type LedgerProblem,
} from "./store.ts";

export type { DailyMovementRow };
/** A posting as CTEs of a caller's own statement (with `postingFor`'s values): the capture's one round trip. */
export { postingCtes } from "./store.ts";

export interface LedgerReport {
  ok: boolean;
  transactions: number;
  entries: number;
  problems: LedgerProblem[];
}

export class LedgerService {
  /** Records a posting inside the caller's transaction (the state change it accounts for commits with it). */
  async post(tx: Executor, posting: Posting): Promise<string> {
    assertBalanced(posting);
    const id = newId("ledgerTransaction");
    await insertPosting(tx, id, posting, Math.floor(Math.random() * BALANCE_SLOTS));
    return id;
  }

  /** The placeholder values of `postingCtes(posting.lines.length)`: checked, with a new id and a random slot. */
  postingFor(posting: Posting): Record<string, unknown> {
    assertBalanced(posting);
    return postingValues(newId("ledgerTransaction"), posting, Math.floor(Math.random() * BALANCE_SLOTS));
  }

  balances(db: Executor, merchantId: string): Promise<BalanceRow[]> {
    return balancesOf(db, merchantId);
  }

  /** Postings per day and kind for one merchant, mode and currency (the dashboard's daily totals, reports/). */
  dailyMovements(
    db: Executor,
    f: { merchantId: string; mode: string; currency: string; fromDay: string; timeZone: string },
  ): Promise<DailyMovementRow[]> {
    return dailyMovements(db, f);
  }

  async verify(db: Executor): Promise<LedgerReport> {
    const [problems, counts] = await Promise.all([findProblems(db), countTransactions(db)]);
    return { ok: problems.length === 0, ...counts, problems };
  }
}
