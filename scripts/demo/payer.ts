/**
 * Steps 1–5 of the demo: a new payer joins MPay on a new device, through the messenger's account API and login
 * form and the wallet SDK only. Answers the wallet, the enrolled card, and the PIN the payer chose (the demo keeps
 * it in memory to approve with, and never prints it).
 */
import { mkdir, readdir } from "node:fs/promises";
import { join } from "node:path";
import { isPayApiError, PayClient, Wallet, type Card, type KeyStore } from "@mpay/wallet";
import { FileKeyStore } from "@mpay/wallet/node";
import { DemoError, readDemoRoots, type DemoConfig } from "./config.ts";
import { codeFromTestInbox } from "./issuer.ts";
import { createMessengerAccount, signInAtMessenger } from "./messenger.ts";
import { detail, step } from "./print.ts";
import { cardsInTurn, maskedPan, type TestCard } from "./test-cards.ts";

export interface JoinedPayer {
  wallet: Wallet;
  card: Card;
  issuerName: string;
  pin: string;
}

/** `count` random decimal digits, without modulo bias (bytes of 250 and above are drawn again). */
function randomDigits(count: number): string {
  let digits = "";
  while (digits.length < count) {
    for (const byte of crypto.getRandomValues(new Uint8Array(count)))
      if (byte < 250 && digits.length < count) digits += String(byte % 10);
  }
  return digits;
}

/** The demo's wallet, as a production build is configured: the demo network's root is the only one it trusts. */
export async function demoWallet(
  config: DemoConfig,
  keyStore: KeyStore,
  client: PayClient = new PayClient({ baseUrl: config.payUrl }),
): Promise<Wallet> {
  return new Wallet({ trustedRoots: await readDemoRoots(config), keyStore, client });
}

/** A key-store folder of its own for this run's device, numbered: the number picks this run's test card. */
async function newDeviceFolder(config: DemoConfig): Promise<{ folder: string; run: number }> {
  const devices = join(config.demoDir, "devices");
  await mkdir(devices, { recursive: true, mode: 0o700 });
  const run = (await readdir(devices)).length;
  return {
    folder: join(devices, `${String(run + 1).padStart(4, "0")}-${new Date().toISOString().replace(/[:.]/g, "-")}`),
    run,
  };
}

export async function payerJoins(config: DemoConfig, issuers: string[]): Promise<JoinedPayer> {
  step("Payer", "creates a messenger account");
  const phoneNumber = `+82107${randomDigits(7)}`;
  const password = `demo-${crypto.randomUUID()}`;
  const account = await createMessengerAccount(config.messengerUrl, {
    phoneNumber,
    displayName: `Demo Payer ${phoneNumber.slice(-4)}`,
    password,
  });
  detail(
    `New each run: phone ${account.phoneNumber}, name "${account.displayName}"; the password stays inside this process.`,
  );
  detail(`→ messenger account ${account.id}`);

  step("Payer", "signs in to MPay with the messenger account (OpenID Connect, code flow with PKCE)");
  const { folder, run } = await newDeviceFolder(config);
  const wallet = await demoWallet(config, new FileKeyStore(join(folder, "keys.json"), FileKeyStore.newDeviceSecret()));
  const { authorizationUrl, codeVerifier } = await wallet.startSignIn();
  detail("The wallet makes a PKCE pair, keeps the verifier and gets a sign-in link from the pay server. The demo, as");
  detail(
    `the payer's browser, opens the messenger's login form at ${new URL(authorizationUrl).origin}, posts phone and password,`,
  );
  detail("and follows the redirects: to the pay server, then to the wallet's landing page with a one-time code, which");
  detail("the wallet exchanges with its verifier for the session (no token in any URL).");
  const landing = await signInAtMessenger(authorizationUrl, account.phoneNumber, password);
  const session = await wallet.finishSignIn(landing, codeVerifier);
  detail(`→ signed in as payer ${session.payer.id} ("${session.payer.displayName}")`);

  step("Payer", "binds this device to MPay");
  const device = await wallet.bindThisDevice("Demo device");
  detail(`A new P-256 key made on the device (key store ${folder}).`);
  detail("The first device binds on the first sign-in; any later one needs this device's word and a waiting period.");
  detail(`→ device ${device.id} is ${device.status}`);

  step("Payer", "sets a 6-digit payment PIN");
  const pin = randomDigits(6);
  const pinStatus = await wallet.setPin(pin);
  detail(
    "Over OPAQUE: the PIN never leaves the device, and the pay server cannot test guesses offline. Not shown here.",
  );
  detail(`→ PIN set; ${pinStatus.triesLeft} tries before it locks`);

  step("Payer", "enrolls a test card");
  const { card, issuerName } = await enrollTestCard(wallet, config, cardsInTurn(run, issuers));
  detail("The pay server keeps the card sealed, with one share of its key; this device keeps the other.");
  detail(
    `→ card ${card.id} is ${card.status}: ${card.brand} •••• ${card.last4}, issuer ${issuerName}, card reference ${card.cardRef}`,
  );
  return { wallet, card, issuerName, pin };
}

/** Enrolls the first test card whose issuer takes it: a card paused after its 5 codes of the day gives way to the next. */
async function enrollTestCard(
  wallet: Wallet,
  config: DemoConfig,
  cards: TestCard[],
): Promise<{ card: Card; issuerName: string }> {
  for (const card of cards) {
    const since = new Date();
    let pending;
    try {
      pending = await wallet.startCardEnrollment({ pan: card.pan, expiry: card.expiry, cvc: card.cvc });
    } catch (error) {
      if (!isPayApiError(error, "card_enrollment_locked")) throw error;
      detail(
        `Test card ${maskedPan(card.pan)} is paused at its issuer for today (5 codes a day); trying the next one.`,
      );
      continue;
    }
    detail(
      `The payer types card ${maskedPan(card.pan)}, expiry ${card.expiry} and its CVC. The wallet finds the issuer, ${pending.issuerName},`,
    );
    detail(
      "from the card number, checks its certificate against the one card-network root the wallet trusts (the demo",
    );
    detail("network's, made by npm start on this machine), and encrypts");
    detail("the card to that issuer (JWE): the pay server forwards it without being able to read it.");
    detail(
      `${pending.issuerName} texts a one-time code to the cardholder's phone on file (${pending.codeSentTo}); the demo reads it`,
    );
    detail("from the simulator's test inbox (GET /test-inbox) and the wallet sends it back.");
    const code = await codeFromTestInbox(config.issuerUrl, card.phone, pending.issuerId, since);
    return { card: await pending.complete(code), issuerName: pending.issuerName };
  }
  throw new DemoError(
    "every test card is paused at its issuer for today (5 enrollment codes per card a day); try again tomorrow, or start with a fresh ISSUER_DATA_DIR",
  );
}
