/**
 * The "Try it" block `npm start` prints once every process is ready (issue 9, item 8): it makes the demo payers ready
 * (payers.ts) and tells a newcomer how to pay from a checkout link in a browser within a minute — where the
 * messenger and the wallet are, each demo payer's phone and password, their test card and where its one-time codes
 * arrive (the issuer simulator's test inbox), and how to get a checkout link.
 *
 * It also names the merchant dashboard and the operator console with their demo people (issue 10, deliverable 6),
 * read from the pay server's demo-users.json; the demo shops of examples/mall follow the block (scripts/start.mjs).
 *
 * The only secrets it shows are these demo credentials, which the newcomer types (test cards are public test data),
 * and the passwords of the demo dashboard owner and the demo console admin (their second factor stays in the file:
 * `npm run demo -- totp`). The demo merchant's keys stay in their file: the block names the file, never a key.
 */
import { access } from "node:fs/promises";
import { demoMerchantFile, demoUsersFile, loadDemoConfig, readDemoUsers, type DemoConfig } from "./config.ts";
import { issuerNames, testInboxUrl } from "./issuer.ts";
import { ensureDemoPayers, payersFile, type DemoPayer } from "./payers.ts";
import { groupedPan } from "./test-cards.ts";

/** What the block tells besides the payers: what runs now. */
export interface TryItFacts {
  /** The running card companies' names by id. */
  issuers: ReadonlyMap<string, string>;
  /** The demo merchant's key file exists (the embedded database makes it). */
  merchant: boolean;
  /** The demo merchant's dashboard owner, from demo-users.json (the pay server makes it on its start), if any. */
  dashboardOwner: DemoPerson | null;
  /** The operator console's demo admin, from the same file, if any. */
  consoleAdmin: DemoPerson | null;
  /** The issuer host's test inbox answers (ISSUER_TEST_INBOX): else no code reaches anyone and no card can be added. */
  testInbox: boolean;
}

/** A demo person's sign-in as the block shows it: the TOTP seed stays in the file. */
export interface DemoPerson {
  email: string;
  password: string;
}

function personLine(person: DemoPerson): string {
  return `    ${person.email}   password ${person.password}   sign-in code: npm run demo -- totp`;
}

function payerLines(payer: DemoPayer, config: DemoConfig, facts: TryItFacts): string[] {
  const { card } = payer;
  const issuer = facts.issuers.get(card.issuerId);
  const running = issuer ? "" : ` (its card company ${card.issuerId} is not running now: ISSUER_IDS)`;
  return [
    `    ${payer.displayName.padEnd(10)}  phone ${payer.phoneNumber}   password ${payer.password}`,
    `      test card  ${issuer ?? card.issuerId} ${card.brand} ${groupedPan(card.pan)}, expiry ${card.expiry}, CVC ${card.cvc}${running}`,
    facts.testInbox
      ? `      its codes  ${testInboxUrl(config.issuerUrl, card.phone)}   (the test inbox: this card's phone)`
      : "      its codes  nowhere: the issuer host's test inbox is off (ISSUER_TEST_INBOX), so no card can be added",
  ];
}

export function tryItBlock(config: DemoConfig, payers: DemoPayer[], facts: TryItFacts): string {
  const lines = [
    "Try it in a browser (demo accounts and test cards only):",
    `  messenger ${config.webUrl}/   ·   wallet ${config.webUrl}/wallet`,
    `  Demo payers, friends with a chat (passwords made on the first start, kept in ${payersFile(config.demoDir)}):`,
    ...payers.flatMap((payer) => payerLines(payer, config, facts)),
    "  1. Sign in to the messenger as one of them.",
    facts.merchant
      ? `  2. Get a payment to pay: npm run demo -- checkout   (Demo Mall, 35,000 KRW; its keys stay in ${demoMerchantFile(config)})`
      : "  2. Get a payment to pay from your merchant's server (no demo merchant here: it is made on the embedded database only).",
    "  3. Open its wallet link (or its checkout link in a phone-sized window: pay in the messenger): sign in to MPay with",
    "     the messenger and the wallet binds this browser; choose a PIN, add the payer's test card with the code from its",
    "     test inbox page, and pay.   Or watch a whole payment in the terminal: npm run demo",
    ...(facts.dashboardOwner
      ? [
          `  Merchant dashboard ${config.webUrl}/dashboard   (Demo Mall's payments, refunds, keys, webhooks, team)`,
          personLine(facts.dashboardOwner),
        ]
      : []),
    ...(facts.consoleAdmin
      ? [
          `  Operator console ${config.webUrl}/console   (the pay company's staff: merchants, suspensions, vault, audit)`,
          personLine(facts.consoleAdmin),
        ]
      : []),
    ...(facts.dashboardOwner || facts.consoleAdmin
      ? [`    (their passwords and authenticator seeds are kept in ${demoUsersFile(config)})`]
      : []),
  ];
  return `${lines.join("\n")}\n`;
}

/** Makes the demo payers ready and answers the block to print. Needs the messenger and the issuer host up. */
export async function tryIt(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const config = loadDemoConfig(env);
  const issuers = await issuerNames(config.issuerUrl);
  const payers = await ensureDemoPayers(config, [...issuers.keys()]);
  const [merchant, demoUsers, testInbox] = await Promise.all([
    access(demoMerchantFile(config)).then(
      () => true,
      () => false,
    ),
    readDemoUsers(config),
    fetch(testInboxUrl(config.issuerUrl, payers[0]!.phoneNumber)).then(
      async (response) => {
        await response.body?.cancel();
        return response.ok;
      },
      () => false,
    ),
  ]);
  const person = (signIn: DemoPerson | undefined) =>
    signIn ? { email: signIn.email, password: signIn.password } : null;
  return tryItBlock(config, payers, {
    issuers,
    merchant,
    testInbox,
    dashboardOwner: person(demoUsers.dashboard),
    consoleAdmin: person(demoUsers.console),
  });
}
