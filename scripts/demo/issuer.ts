/**
 * What the demo reads from the issuer host simulator (services/issuer/README.md): which card companies run, the
 * one-time code it "texted" to a cardholder (its test inbox stands in for the phone), and its back office's view
 * of a card (operator token). Answers are checked with the protocol's schemas.
 */
import { z } from "zod";
import { backofficeCardSchema, issuerDirectoryEntrySchema, testInboxSchema, type BackofficeCard } from "@mpay/protocol";
import { DemoError } from "./config.ts";

async function getJson<T>(url: string, schema: z.ZodType<T>, token?: string): Promise<T> {
  const response = await fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  const json: unknown = await response.json().catch(() => null);
  const parsed = schema.safeParse(json);
  if (!response.ok || !parsed.success)
    throw new DemoError(`the issuer host answered ${response.status} to GET ${new URL(url).pathname}`);
  return parsed.data;
}

/** The card companies this issuer host runs (ISSUER_IDS), in its order, with their names. */
export async function issuerNames(issuerUrl: string): Promise<Map<string, string>> {
  const directory = await getJson(`${issuerUrl}/issuers`, z.array(issuerDirectoryEntrySchema));
  return new Map(directory.map((issuer) => [issuer.issuerId, issuer.name]));
}

/** The ids of the card companies this issuer host runs (ISSUER_IDS). */
export async function runningIssuers(issuerUrl: string): Promise<string[]> {
  return [...(await issuerNames(issuerUrl)).keys()];
}

/** Where a person reads the one-time codes "texted" to `phone`: the test inbox, a page in a browser. */
export function testInboxUrl(issuerUrl: string, phone: string): string {
  return `${issuerUrl}/test-inbox?phone=${encodeURIComponent(phone)}`;
}

/** The newest one-time code that `issuerId` sent to `phone` at or after `since` (polled briefly). */
export async function codeFromTestInbox(
  issuerUrl: string,
  phone: string,
  issuerId: string,
  since: Date,
): Promise<string> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const inbox = await getJson(testInboxUrl(issuerUrl, phone), testInboxSchema);
    const message = inbox.messages.find(
      (m) => m.issuerId === issuerId && Date.parse(m.sentAt) >= since.getTime() - 1000,
    );
    if (message) return message.code;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new DemoError(
    `no one-time code reached the test inbox of ${phone}: is the issuer host's test inbox on (ISSUER_TEST_INBOX)?`,
  );
}

export function backofficeCard(
  issuerUrl: string,
  issuerId: string,
  cardRef: string,
  operatorToken: string,
): Promise<BackofficeCard> {
  return getJson(
    `${issuerUrl}/issuers/${encodeURIComponent(issuerId)}/backoffice/cards/${encodeURIComponent(cardRef)}`,
    backofficeCardSchema,
    operatorToken,
  );
}
