/**
 * `npm run demo`: a newcomer's first payment (issue 4, deliverable 8). Drives the system that `npm start` runs, as
 * a payer and a merchant would, through public interfaces only: the messenger's account API and login form, the
 * wallet SDK (@mpay/wallet), the merchant API with the demo merchant's test key, and the issuer simulator's test
 * inbox and back office. No database, no import from services/*. Each run is a new messenger account on a new
 * device, so it runs again and again. It never prints the PIN, the password, a session token, a secret key or a
 * card number (last four only). Configuration: the services' own variables (scripts/demo/config.ts).
 *
 * `npm run demo -- checkout` instead only creates a payment as Demo Mall and prints its checkout link, for a person
 * to pay in a browser as a demo payer of `npm start` (scripts/demo/checkout.ts; issue 9, item 8).
 */
import { PayApiError, WalletError } from "@mpay/wallet";
import { checkout } from "./demo/checkout.ts";
import { totp } from "./demo/totp.ts";
import { DemoError, loadDemoConfig, readDemoMerchant, readOperatorToken } from "./demo/config.ts";
import { backofficeCard, runningIssuers } from "./demo/issuer.ts";
import { MerchantApi, type Payment } from "./demo/merchant.ts";
import { payerJoins } from "./demo/payer.ts";
import { detail, line, money, section, step, title } from "./demo/print.ts";
import { checkRunning } from "./demo/running.ts";
import { showIssuerCard, showLedger, showPayment, showTerms } from "./demo/views.ts";

const AMOUNT = 35_000;
const REFUND = 5_000;

async function firstPayment(): Promise<void> {
  const config = loadDemoConfig();
  await checkRunning(config);
  const [merchantKeys, operatorToken, issuers] = await Promise.all([
    readDemoMerchant(config),
    readOperatorToken(config),
    runningIssuers(config.issuerUrl),
  ]);
  const merchant = new MerchantApi(config.payUrl, merchantKeys.secretKey);
  const states: Payment[] = [];
  const paymentNow = async (id: string) => {
    const payment = await merchant.payment(id);
    showPayment(payment);
    states.push(payment);
  };

  title("MPay: a first payment, from sign-in to refund");
  line(
    `pay server ${config.payUrl} · issuer host ${config.issuerUrl} (${issuers.join(", ")}) · messenger ${config.messengerUrl}`,
  );
  line("Only public interfaces: the messenger's account API and login form, the wallet SDK, the merchant API");
  line("(the demo merchant's test key), and the issuer simulator's test inbox and back office.");

  const { wallet, card, issuerName, pin } = await payerJoins(config, issuers);
  const balancesBefore = await merchant.balances();

  step("Merchant", `Demo Mall's server creates a payment of ${money(AMOUNT)} (manual capture)`);
  const orderId = `demo-${Date.now()}`;
  const created = await merchant.createPayment({
    amount: AMOUNT,
    currency: "KRW",
    orderId,
    itemName: "Linen shirt",
    returnUrl: `${config.shopOrigin}/orders/${orderId}/done`,
    cancelUrl: `${config.shopOrigin}/cart`,
    captureMethod: "manual",
  });
  detail(`POST /v1/payments (with an Idempotency-Key) → payment ${created.id} for order ${orderId}`);
  await paymentNow(created.id);

  step("Payer", "approves the payment with the PIN");
  detail(
    "The wallet shows only the terms it will sign (the merchant's registered name, never the merchant's own text):",
  );
  const { payment: decided } = await wallet.approvePayment(created.id, {
    cardId: card.id,
    pin,
    confirm: async (terms) => {
      showTerms(terms, issuerName);
      return terms.paymentId === created.id && terms.amount === AMOUNT && terms.currency === "KRW";
    },
  });
  detail(
    "The payer confirms and enters the PIN. The device signs the terms; the pay server releases the sealed card to a",
  );
  detail(
    "key made for this payment; the wallet joins the two key shares, opens the card, and sends the issuer the signed",
  );
  detail("terms and card, encrypted to the issuer. The issuer checks signature, terms, PIN statement and limit.");
  detail(`→ ${issuerName}'s decision: ${decided.status}${decided.declineCode ? ` (${decided.declineCode})` : ""}`);
  await paymentNow(created.id);
  if (decided.status !== "authorized")
    throw new DemoError(
      `${issuerName} did not authorize the payment (${decided.declineCode ?? decided.status}); see the decline rules in services/issuer/README.md`,
    );

  step("Merchant", "captures the payment (the goods are shipped)");
  await merchant.capture(created.id);
  detail(`POST /v1/payments/${created.id}/capture: the issuer turns the hold into a charge`);
  await paymentNow(created.id);

  step("Merchant", `refunds ${money(REFUND)} (one item returned)`);
  const refund = await merchant.refund(created.id, REFUND, "requested_by_customer");
  detail(
    `POST /v1/payments/${created.id}/refunds → refund ${refund.id} of ${money(refund.amount, refund.currency)} ${refund.status}`,
  );
  await paymentNow(created.id);

  section("The merchant's ledger (GET /v1/balances: Demo Mall, test mode; debits +, credits −)");
  showLedger(balancesBefore, await merchant.balances());

  section(
    `The issuer's view of the card (${issuerName} back office, GET /issuers/${card.issuerId}/backoffice/cards/${card.cardRef})`,
  );
  showIssuerCard(
    await backofficeCard(config.issuerUrl, card.issuerId, card.cardRef, operatorToken),
    card.last4,
    (await wallet.ensureDeviceKey()).kid,
  );

  const path = states.map((p) => p.status).filter((status, i, all) => all[i - 1] !== status);
  section(
    `Done. Payment ${created.id}: ${path.join(" → ")}, ${money(REFUND)} refunded, ${money(AMOUNT - REFUND)} kept.`,
  );
  line(
    "Run it again for a new payer, device and payment. Merchant API: docs/merchant-api.md · test cards: services/issuer/README.md",
  );
}

/** `npm run demo` alone plays the whole story; `npm run demo -- checkout` only makes a payment to pay in a browser. */
function main(args: string[]): Promise<void> {
  const [command, ...rest] = args;
  if (command === undefined) return firstPayment();
  if (command === "checkout" && rest.length === 0) return checkout();
  if (command === "totp") return totp(rest);
  return Promise.reject(
    new DemoError(
      `unknown command ${JSON.stringify(args.join(" ").slice(0, 40))}: npm run demo (a whole first payment), npm run demo -- checkout (a checkout link to pay in a browser) or npm run demo -- totp (the demo dashboard owner's and console admin's sign-in codes)`,
    ),
  );
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (error: unknown) => {
    // One line, without a stack: the messages of DemoError, WalletError and PayApiError carry no secret.
    const reason =
      error instanceof DemoError
        ? error.message
        : error instanceof PayApiError
          ? `the pay server answered ${error.code}: ${error.message}${error.requestId ? ` (request ${error.requestId})` : ""}`
          : error instanceof WalletError
            ? `the wallet stopped: ${error.code}: ${error.message}`
            : error instanceof Error
              ? error.message
              : String(error);
    process.stderr.write(`npm run demo: ${reason}\n`);
    process.exit(1);
  },
);
