/**
 * The real pay server for the merchant SDK's tests (packages/merchant), in this process on PGlite but over a real
 * loopback socket (the SDK speaks HTTP through fetch, so its tests do too), with the few steps a merchant cannot take
 * through the API: a payer's approval (an issuer's decision recorded through the payments service, as the pay
 * server's own tests do) and running the webhook worker now. Test code only; the SDK imports nothing of it.
 */
import type { PayConfig } from "../../../services/pay/src/config.ts";
import {
  authorizeThroughService,
  openTestPay,
  TEST_ORIGIN,
  type TestMerchant,
  type TestPay,
} from "../../../services/pay/src/testing/system.ts";

export { TEST_ORIGIN, type TestMerchant };

export interface MerchantTestPay {
  pay: TestPay;
  /** `http://127.0.0.1:<port>` */
  baseUrl: string;
  /** The test merchant: its keys and its account's webhook secret. */
  merchant: TestMerchant;
  createMerchant(name?: string, origins?: string[]): Promise<TestMerchant>;
  /** The payer approves and the issuer authorizes: the payment becomes `authorized` (or `captured`, automatic). */
  authorize(paymentId: string): Promise<void>;
  /** Runs the webhook worker until nothing is due (or `rounds` passes). */
  deliverWebhooks(rounds?: number): Promise<void>;
  close(): Promise<void>;
}

export async function merchantTestPay(overrides: Partial<PayConfig> = {}): Promise<MerchantTestPay> {
  const pay = await openTestPay("pglite", {
    webhooks: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5, timeoutMs: 2000, pollIntervalMs: 10, batchSize: 50 },
    ...overrides,
  });
  const baseUrl = await pay.app.listen({ host: "127.0.0.1", port: 0 });
  return {
    pay,
    baseUrl,
    merchant: pay.merchant,
    createMerchant: pay.createMerchant,
    authorize: (paymentId) => authorizeThroughService(pay.system, paymentId),
    async deliverWebhooks(rounds = 5) {
      for (let i = 0; i < rounds; i++) {
        await pay.system.deliveryWorker.runOnce();
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    close: () => pay.close(),
  };
}
