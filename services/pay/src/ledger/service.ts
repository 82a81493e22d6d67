import { newId } from "@mpay/protocol";
import type { Executor } from "../db/client.ts";
import { assertBalanced, type Posting } from "./accounts.ts";
import {
  BALANCE_SLOTS,
  balancesOf,
  countTransactions,
  findProblems,
  insertPosting,
  type BalanceRow,
  type LedgerProblem,
} from "./store.ts";

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

  balances(db: Executor, merchantId: string): Promise<BalanceRow[]> {
    return balancesOf(db, merchantId);
  }

  async verify(db: Executor): Promise<LedgerReport> {
    const [problems, counts] = await Promise.all([findProblems(db), countTransactions(db)]);
    return { ok: problems.length === 0, ...counts, problems };
  }
}
