/**
 * How the demo talks to the newcomer: numbered steps that name the party acting, indented details, amounts with
 * thousands separators. Nothing secret reaches these functions (no PIN, token, key or full card number).
 */
const out = (line = "") => process.stdout.write(`${line}\n`);
let stepNumber = 0;

export function title(text: string): void {
  out(text);
  out("=".repeat(text.length));
}

export type Party = "Payer" | "Merchant";

/** `3. Payer — binds this phone to MPay`, after a blank line. */
export function step(party: Party, text: string): void {
  out();
  out(`${++stepNumber}. ${party} — ${text}`);
}

export function detail(text: string): void {
  out(`   ${text}`);
}

/** Rows of `label  value`, the labels padded to one width. */
export function table(rows: Array<[string, string]>, indent = "   "): void {
  const width = Math.max(...rows.map(([label]) => label.length));
  for (const [label, value] of rows) out(`${indent}${label.padEnd(width)}  ${value}`);
}

export function section(text: string): void {
  out();
  out(text);
}

export function line(text = ""): void {
  out(text);
}

/** `35,000 KRW` (integer minor units; KRW has none). */
export function money(amount: number, currency = "KRW"): string {
  return `${amount.toLocaleString("en-US")} ${currency}`;
}

/** `+30,000 KRW`, `−5,000 KRW`, `0 KRW`. */
export function signedMoney(amount: number, currency = "KRW"): string {
  return `${amount > 0 ? "+" : amount < 0 ? "−" : ""}${money(Math.abs(amount), currency)}`;
}
