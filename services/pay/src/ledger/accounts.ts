/**
 * The chart of accounts and the postings each payment movement makes. Amounts are signed: a debit is positive,
 * a credit negative; every posting sums to zero per currency (checked before writing, proved by `mpay ledger
 * verify`).
 *
 *   authorize A      Dr issuer_authorized A        Cr merchant_authorized A     (a hold, not yet money)
 *   capture C of A   Cr issuer_authorized A        Dr merchant_authorized A     (release the whole hold)
 *                    Dr issuer_receivable C        Cr merchant_payable C        (money the issuer owes, due to the merchant)
 *   void/expire A    Cr issuer_authorized A        Dr merchant_authorized A
 *   refund R         Dr merchant_payable R         Cr issuer_receivable R
 */
import type { Mode } from "@mpay/protocol";

export const ACCOUNT_KINDS = [
  "issuer_authorized",
  "merchant_authorized",
  "issuer_receivable",
  "merchant_payable",
] as const;
export type AccountKind = (typeof ACCOUNT_KINDS)[number];

export type PostingKind = "authorization" | "capture" | "authorization_release" | "refund";

export interface LedgerLine {
  account: string;
  currency: string;
  amount: number;
}

export interface Posting {
  kind: PostingKind;
  merchantId: string;
  mode: Mode;
  paymentId: string;
  refundId?: string;
  lines: LedgerLine[];
}

/** Accounts are per merchant and mode, so test money never mixes with live money. */
export function accountName(merchantId: string, mode: Mode, kind: AccountKind): string {
  return `${merchantId}:${mode}:${kind}`;
}

interface PaymentRef {
  id: string;
  merchantId: string;
  mode: Mode;
  currency: string;
}

function lines(p: PaymentRef, pairs: Array<[AccountKind, number]>): LedgerLine[] {
  return pairs.map(([kind, amount]) => ({
    account: accountName(p.merchantId, p.mode, kind),
    currency: p.currency,
    amount,
  }));
}

function posting(kind: PostingKind, p: PaymentRef, pairs: Array<[AccountKind, number]>, refundId?: string): Posting {
  return {
    kind,
    merchantId: p.merchantId,
    mode: p.mode,
    paymentId: p.id,
    ...(refundId ? { refundId } : {}),
    lines: lines(p, pairs),
  };
}

export function authorizationPosting(p: PaymentRef, amount: number): Posting {
  return posting("authorization", p, [
    ["issuer_authorized", amount],
    ["merchant_authorized", -amount],
  ]);
}

export function capturePosting(p: PaymentRef, authorized: number, captured: number): Posting {
  return posting("capture", p, [
    ["issuer_authorized", -authorized],
    ["merchant_authorized", authorized],
    ["issuer_receivable", captured],
    ["merchant_payable", -captured],
  ]);
}

export function releasePosting(p: PaymentRef, authorized: number): Posting {
  return posting("authorization_release", p, [
    ["issuer_authorized", -authorized],
    ["merchant_authorized", authorized],
  ]);
}

export function refundPosting(p: PaymentRef, refundId: string, amount: number): Posting {
  return posting(
    "refund",
    p,
    [
      ["merchant_payable", amount],
      ["issuer_receivable", -amount],
    ],
    refundId,
  );
}

/** Throws unless every currency of the posting sums to zero and every amount is a non-zero safe integer. */
export function assertBalanced(p: Posting): void {
  const sums = new Map<string, number>();
  for (const line of p.lines) {
    if (!Number.isSafeInteger(line.amount) || line.amount === 0)
      throw new Error(`ledger line with invalid amount in ${p.kind}`);
    sums.set(line.currency, (sums.get(line.currency) ?? 0) + line.amount);
  }
  for (const [currency, sum] of sums) {
    if (sum !== 0) throw new Error(`unbalanced ${p.kind} posting in ${currency}`);
  }
}
