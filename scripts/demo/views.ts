/**
 * The demo's views of what the parties answer: the terms the wallet shows the payer, a payment's state (merchant
 * API), the merchant's ledger balances, and the issuer back office's view of the card. Each takes answers that
 * hold nothing secret; card numbers appear only as their last four digits.
 */
import type { ApprovalTerms, BackofficeCard } from "@mpay/protocol";
import type { Balance, Payment } from "./merchant.ts";
import { detail, money, signedMoney, table } from "./print.ts";

/** What the payer is asked to confirm: only the signed terms (the merchant's registered name, not its request's text). */
export function showTerms(terms: Readonly<ApprovalTerms>, issuerName: string): void {
  table(
    [
      ["merchant", `${terms.merchantName} (${terms.merchantId})`],
      ["amount", `${money(terms.amount, terms.currency)}, ${terms.captureMethod} capture`],
      ["card", `${issuerName}, card reference ${terms.cardRef}`],
      [
        "valid until",
        `${new Date(terms.exp * 1000).toLocaleTimeString("en-GB")} (signed terms live 5 minutes at most)`,
      ],
    ],
    "     ",
  );
}

/** The line `GET /v1/payments/:id` is summed up in. */
export function showPayment(payment: Payment): void {
  const { currency } = payment;
  const declined = payment.declineCode ? ` · decline code ${payment.declineCode}` : "";
  detail(
    `→ status ${payment.status}: captured ${money(payment.amountCaptured, currency)} of ${money(payment.amount, currency)}, refunded ${money(payment.amountRefunded, currency)}${declined}   (GET /v1/payments/:id)`,
  );
}

const LEDGER_MEANING: Record<string, string> = {
  issuer_authorized: "held at issuers, not captured yet",
  merchant_authorized: "the same holds, owed onward to the merchant",
  issuer_receivable: "issuers owe MPay: captures less refunds",
  merchant_payable: "MPay owes the merchant (credit, hence −)",
};

/** The balances now, and how this run changed them (`before` was read before the payment was created). */
export function showLedger(before: Balance[], after: Balance[]): void {
  const key = (b: Balance) => `${b.account} ${b.currency}`;
  const earlier = new Map(before.map((b) => [key(b), b.balance]));
  const header = ["account", "this run", "all runs", ""];
  const rows = after.map((b) => [
    b.account,
    signedMoney(b.balance - (earlier.get(key(b)) ?? 0), b.currency),
    signedMoney(b.balance, b.currency),
    LEDGER_MEANING[b.account] ?? "",
  ]);
  const widths = [0, 1, 2].map((i) => Math.max(...[header, ...rows].map((row) => (row[i] ?? "").length)));
  for (const row of [header, ...rows])
    detail(
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join("   ")
        .trimEnd(),
    );
}

/** The issuer's books for the card, and whether this run's device key is bound to it there. */
export function showIssuerCard(card: BackofficeCard, last4: string, deviceKid: string): void {
  const amount = (value: number) => money(value, card.currency);
  const { books } = card;
  const bound = card.deviceBindings.filter((binding) => binding.unboundAt === null);
  table([
    ["card", `${card.brand} •••• ${last4}, expiry ${card.expiryMonth}, ${card.status}`],
    ["credit limit", amount(card.creditLimit)],
    ["open to buy", amount(card.openToBuy)],
    ["captured", `${amount(card.captured)} (every payment on this test card so far)`],
    ["refunded", amount(card.refunded)],
    [
      "books",
      `${books.balanced ? "balanced" : "NOT BALANCED"}: credit used ${amount(books.creditUsed)} = held ${amount(books.holds)} + captured ${amount(books.captured)} − refunded ${amount(books.refunded)}`,
    ],
    [
      "devices bound",
      `${bound.length}, this device's key among them: ${bound.some((binding) => binding.deviceKid === deviceKid) ? "yes" : "no"}`,
    ],
  ]);
}
