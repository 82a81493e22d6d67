/**
 * CSV as RFC 4180 writes it (CRLF line ends; a field with a comma, quote or line break in double quotes, quotes
 * doubled), with formulas neutralised: a cell a spreadsheet would run (starting with = + - @, or a tab or carriage
 * return that hides one) gets a leading apostrophe, as OWASP's "CSV injection" advice says. Item names and order
 * ids are the merchant's shoppers' text, so they must never become a formula in the merchant's spreadsheet.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

export type CsvValue = string | number | null;

export function csvCell(value: CsvValue): string {
  if (value === null) return "";
  // Numbers are ours (amounts, counts): a negative amount stays a number, not text.
  if (typeof value === "number") return String(value);
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csvLine(values: readonly CsvValue[]): string {
  return `${values.map(csvCell).join(",")}\r\n`;
}
