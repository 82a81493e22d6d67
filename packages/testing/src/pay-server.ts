/**
 * The real pay server for the wallet's tests, in this process but over a real socket (the client speaks HTTP, so
 * its tests do too), with a real issuer host beside it (the pay server's test network kit): `openTestNetwork`,
 * the pay server listening on a free loopback port. Test code only; nothing in the SDK imports it.
 */
import { randomBytes } from "node:crypto";
import type { Backend } from "@mpay/service-kit/testing";
import { PayClient, type Card, type Wallet } from "@mpay/wallet";
import { call, paymentBody, type TestPay } from "../../../services/pay/src/testing/system.ts";
import type { PayConfig } from "../../../services/pay/src/config.ts";
import { openTestNetwork, type TestNetwork } from "./network.ts";

/** A test card of the simulator's issuer `sampo` that approves, and the phone its one-time codes go to. */
export const APPROVING_CARD = { pan: "4111000000000016", expiry: "12/31", cvc: "806", phone: "+821055510001" };

export interface ListeningPay {
  pay: TestPay;
  network: TestNetwork;
  /** `http://127.0.0.1:<port>` */
  baseUrl: string;
  /**
   * A client signed in as the payer of messenger account `subject` (a fresh one by default), the identity taken as
   * verified: the messenger sign-in itself is tested on its own. Two calls with one subject are two sessions of
   * one payer, as on two devices.
   */
  signedInClient(
    subject?: string,
    fetch?: typeof globalThis.fetch,
  ): Promise<{ client: PayClient; payerId: string; subject: string }>;
  /** Enrolls the approving test card on the wallet's (bound) device, with the code from the issuer's test inbox. */
  enrollCard(wallet: Wallet): Promise<Card>;
  /** A payment of the test merchant ("Test Shop"), awaiting approval. */
  newPayment(overrides?: Record<string, unknown>): Promise<string>;
  /** The payment's status as the merchant reads it (GET /v1/payments/{id}). */
  paymentStatus(paymentId: string): Promise<string>;
  close(): Promise<void>;
}

export async function listeningTestPay(backend: Backend, overrides: Partial<PayConfig> = {}): Promise<ListeningPay> {
  const network = await openTestNetwork(backend, { pay: overrides });
  const { pay } = network;
  const baseUrl = await pay.app.listen({ host: "127.0.0.1", port: 0 });
  return {
    pay,
    network,
    baseUrl,
    async signedInClient(subject = `acct_${randomBytes(9).toString("base64url")}`, fetch?: typeof globalThis.fetch) {
      const session = await pay.system.payers.openSession({ subject, displayName: "Test Payer", phoneNumber: null });
      const client = new PayClient({ baseUrl, sessionToken: session.sessionToken.peek(), ...(fetch ? { fetch } : {}) });
      return { client, payerId: session.payer.id, subject };
    },
    async enrollCard(wallet) {
      const pending = await wallet.startCardEnrollment(APPROVING_CARD);
      return pending.complete(await network.latestCode(APPROVING_CARD.phone));
    },
    async newPayment(paymentOverrides = {}) {
      const answer = await call<{ id: string }>(
        pay.app,
        "POST",
        "/v1/payments",
        pay.merchant.secretKey,
        paymentBody(paymentOverrides),
      );
      if (answer.status !== 200) throw new Error(`payment not created: ${answer.raw}`);
      return answer.body.id;
    },
    async paymentStatus(paymentId) {
      const answer = await call<{ status: string }>(
        pay.app,
        "GET",
        `/v1/payments/${paymentId}`,
        pay.merchant.secretKey,
      );
      if (answer.status !== 200) throw new Error(`payment not read: ${answer.raw}`);
      return answer.body.status;
    },
    close: () => network.close(),
  };
}
