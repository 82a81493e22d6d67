/**
 * The real pay server for the wallet's tests, in this process but over a real socket (the client speaks HTTP, so
 * its tests do too): `openTestPay` of the pay server's own test kit, listening on a free loopback port. Test code
 * only; nothing in the SDK imports it.
 */
import { randomBytes } from "node:crypto";
import type { Backend } from "../../../../services/pay/src/testing/databases.ts";
import { call, openTestPay, paymentBody, type TestPay } from "../../../../services/pay/src/testing/system.ts";
import type { PayConfig } from "../../../../services/pay/src/config.ts";
import { PayClient } from "../pay-client.ts";

export interface ListeningPay {
  pay: TestPay;
  /** `http://127.0.0.1:<port>` */
  baseUrl: string;
  /**
   * A client signed in as the payer of messenger account `subject` (a fresh one by default), the identity taken as
   * verified: the messenger sign-in itself is tested on its own. Two calls with one subject are two sessions of
   * one payer, as on two devices.
   */
  signedInClient(subject?: string, fetch?: typeof globalThis.fetch): Promise<{ client: PayClient; payerId: string; subject: string }>;
  /** A payment of the test merchant ("Test Shop"), awaiting approval. */
  newPayment(overrides?: Record<string, unknown>): Promise<string>;
  /** The payment's status as the merchant reads it (GET /v1/payments/{id}). */
  paymentStatus(paymentId: string): Promise<string>;
  close(): Promise<void>;
}

export async function listeningTestPay(backend: Backend, overrides: Partial<PayConfig> = {}): Promise<ListeningPay> {
  const pay = await openTestPay(backend, overrides);
  const baseUrl = await pay.app.listen({ host: "127.0.0.1", port: 0 });
  return {
    pay,
    baseUrl,
    async signedInClient(subject = `acct_${randomBytes(9).toString("base64url")}`, fetch?: typeof globalThis.fetch) {
      const session = await pay.system.payers.openSession({ subject, displayName: "Test Payer", phoneNumber: null });
      const client = new PayClient({ baseUrl, sessionToken: session.sessionToken.peek(), ...(fetch ? { fetch } : {}) });
      return { client, payerId: session.payer.id, subject };
    },
    async newPayment(paymentOverrides = {}) {
      const answer = await call<{ id: string }>(pay.app, "POST", "/v1/payments", pay.merchant.secretKey, paymentBody(paymentOverrides));
      if (answer.status !== 200) throw new Error(`payment not created: ${answer.raw}`);
      return answer.body.id;
    },
    async paymentStatus(paymentId) {
      const answer = await call<{ status: string }>(pay.app, "GET", `/v1/payments/${paymentId}`, pay.merchant.secretKey);
      if (answer.status !== 200) throw new Error(`payment not read: ${answer.raw}`);
      return answer.body.status;
    },
    close: () => pay.close(),
  };
}
