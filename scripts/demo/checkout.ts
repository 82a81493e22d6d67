/**
 * `npm run demo -- checkout` (issue 9, item 8): Demo Mall's server creates a 35,000 KRW payment with its test key,
 * and the command prints where a person pays it in a browser — the hosted checkout (`checkoutUrl`) and the wallet's
 * pay sheet for it — so a newcomer pays as one of the demo payers `npm start` printed. It never prints the
 * merchant's key (it names the file the key is in).
 */
import { demoMerchantFile, loadDemoConfig, readDemoMerchant, type DemoConfig } from "./config.ts";
import { MerchantApi } from "./merchant.ts";
import { payersFile } from "./payers.ts";
import { line, money, table, title } from "./print.ts";
import { checkRunning } from "./running.ts";

export const CHECKOUT_AMOUNT = 35_000;

export async function checkout(config: DemoConfig = loadDemoConfig()): Promise<void> {
  await checkRunning(config, { web: true });
  const merchant = new MerchantApi(config.payUrl, (await readDemoMerchant(config)).secretKey);
  const orderId = `checkout-${Date.now()}`;
  const payment = await merchant.createPayment({
    amount: CHECKOUT_AMOUNT,
    currency: "KRW",
    orderId,
    itemName: "Linen shirt",
    returnUrl: `${config.shopOrigin}/orders/${orderId}/done`,
    cancelUrl: `${config.shopOrigin}/cart`,
    captureMethod: "automatic",
  });

  title(`Demo Mall asks for ${money(payment.amount, payment.currency)}: payment ${payment.id} (order ${orderId})`);
  line(`Created with Demo Mall's test key from ${demoMerchantFile(config)} (POST /v1/payments); it waits for a payer.`);
  line();
  table([
    ["checkout", payment.checkoutUrl],
    ["in the wallet", `${config.webUrl}/wallet/pay/${encodeURIComponent(payment.id)}`],
  ]);
  line();
  line("Open the checkout link: on a phone-sized window it offers to pay in the messenger; on a desktop type a demo");
  line("payer's phone number, and the request arrives in that payer's MPay chat in the messenger. Or open the wallet");
  line("link in the browser where the payer signed in. The demo payers, their passwords and test cards are what npm");
  line(
    `start printed (kept in ${payersFile(config.demoDir)}). Unpaid, the payment expires after 15 minutes by default;`,
  );
  line(
    `once approved it is captured at once. Afterwards the checkout returns to Demo Mall's page at ${config.shopOrigin},`,
  );
  line("where no shop runs in this repository. Another link: npm run demo -- checkout");
}
