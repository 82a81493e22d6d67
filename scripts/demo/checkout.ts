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
  line(
    `Pay it as a demo payer that npm start printed (phones, passwords and test cards: ${payersFile(config.demoDir)}):`,
  );
  line(
    "- the wallet link, in the browser where the payer signed in to the messenger: the wallet signs the payer in to",
  );
  line("  MPay and binds this browser, asks for a new PIN and a card (its one-time code is on the test inbox page npm");
  line("  start printed for that card), then shows the payment to approve;");
  line(
    "- or the checkout link, as a shopper sees it: in a phone-sized window (600 px or less) it offers to pay in the",
  );
  line("  messenger; on a desktop, a QR code for a phone and a field for the payer's number, to which MPay sends the");
  line("  request once that payer has used the wallet.");
  line("Unpaid, the payment expires after 15 minutes (by default); approved, it is captured at once, and the checkout");
  line(
    `then returns to Demo Mall (examples/mall) at ${config.shopOrigin}, which has no order for a payment made here.`,
  );
  line("Another payment: npm run demo -- checkout");
}
