/**
 * The attacker of breach drill (h) (issue 7): a thief of the pay server's KEK (the dev key file) and of its
 * acquirer credential (the configuration), with read access to its database. With those it opens a mandate's
 * sealed issuer token exactly as the pay server does (its own key-provider code, the row's AAD) and charges the
 * card at the issuer itself, over the acquirer link, with no pay server in between: whatever the issuer approves
 * here is what a KEK breach yields.
 */
import { randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import { authorizationAnswerSchema, type AuthorizationAnswer } from "@mpay/protocol";
import { queryRows, type Db } from "../../services/pay/src/db/client.ts";
import { openDevKeyProvider } from "../../services/pay/src/keys/dev/dev-provider.ts";
import { tokenAad } from "../../services/pay/src/mandates/aad.ts";

export interface StolenMandate {
  mandateId: string;
  issuerId: string;
  merchantId: string;
  currency: string;
  /** The issuer's recurring token, in clear. */
  token: string;
}

/** Reads the mandate's row and opens its sealed token with the KEK in `keyFile`. */
export async function stealRecurringToken(db: Db, keyFile: string, mandateId: string): Promise<StolenMandate> {
  const [row] = await queryRows<{ issuer_id: string; merchant_id: string; currency: string; sealed_token: string }>(
    db,
    sql`select issuer_id, merchant_id, currency, sealed_token from recurring_mandates where id = ${mandateId}`,
  );
  if (!row) throw new Error(`no mandate ${mandateId} in the database`);
  const keys = await openDevKeyProvider({ keyFile, log: () => undefined });
  try {
    const opened = await keys.open("recurring-token", row.sealed_token, tokenAad(mandateId));
    const token = new TextDecoder().decode(opened);
    opened.fill(0);
    return { mandateId, issuerId: row.issuer_id, merchantId: row.merchant_id, currency: row.currency, token };
  } finally {
    await keys.close();
  }
}

/** A charge of the stolen token straight at the issuer, as the acquirer; its payment id and the issuer's answer. */
export async function chargeAtIssuer(
  issuerUrl: string,
  acquirerSecret: string,
  stolen: StolenMandate,
  amount: number,
): Promise<AuthorizationAnswer> {
  const paymentId = `pay_thief_${randomBytes(8).toString("hex")}`;
  const response = await fetch(`${issuerUrl}/issuers/${stolen.issuerId}/authorizations`, {
    method: "POST",
    headers: { authorization: `Bearer ${acquirerSecret}`, "content-type": "application/json" },
    body: JSON.stringify({
      paymentId,
      merchantId: stolen.merchantId,
      merchantName: "Test Shop",
      amount,
      currency: stolen.currency,
      captureMethod: "automatic",
      recurringToken: stolen.token,
    }),
  });
  const body: unknown = await response.json();
  if (response.status !== 200) throw new Error(`the issuer answered ${response.status}: ${JSON.stringify(body)}`);
  return authorizationAnswerSchema.parse(body);
}
