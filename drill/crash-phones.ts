/**
 * The payers' phones of the drills' load (crash-load.ts): each phone is its own payer (its own session, device
 * keys, PIN and enrolled test card). A phone approves one payment at a time — two PIN logins of one payer refuse
 * each other — so the load takes a free phone for each approval and waits, first come first served, when all are
 * busy. One phone (the crash, failover and restore drills) approves one payment after another; the soak drill's
 * `--payers N` lets up to N approvals run side by side, as N payers paying at once do.
 */
import { join } from "node:path";
import { PayClient, Wallet, type PinKeyStretching } from "@mpay/wallet";
import { FileKeyStore } from "@mpay/wallet/node";
import { TEST_NETWORK_ROOTS } from "@mpay/testing/network-roots";
import { approvingTestCards, type IssuerTestCard } from "../bench/pay-wallet.ts";
import { drillIssuers } from "./crash-system.ts";

export const PIN = "730182";

export interface Phone {
  wallet: Wallet;
  /** The payer's enrolled card on this phone. */
  cardId: string;
}

export interface PhoneSetup {
  payUrl: string;
  dir: string;
  /** One payer session per phone. */
  sessionTokens: readonly string[];
  issuer: { latestCode(phone: string): Promise<string> };
  /** Argon2id inside OPAQUE on the phone; the wallet's default unless a drill asks for less (see soak.ts). */
  keyStretching?: PinKeyStretching;
}

/**
 * Each payer's phone bound, its PIN set and a test card of the simulator enrolled (the server must be up). Payer i
 * gets approving card i mod 9 (of ISSUER_ID alone — card 0 — for one payer: drillIssuers); one lane per card, so that a card's one-time code, read from its phone's
 * inbox, belongs to the one enrollment in progress. The lanes run side by side: setup goes that many at a time.
 */
export async function preparePhones(setup: PhoneSetup): Promise<Phone[]> {
  const cards = approvingTestCards(drillIssuers(setup.sessionTokens.length));
  if (cards.length === 0) throw new Error("the simulator has no approving card");
  const phones: Phone[] = new Array(setup.sessionTokens.length);
  await Promise.all(
    cards.map(async (card, lane) => {
      for (let i = lane; i < setup.sessionTokens.length; i += cards.length)
        phones[i] = await preparePhone(setup, i, card);
    }),
  );
  return phones;
}

async function preparePhone(setup: PhoneSetup, i: number, card: IssuerTestCard): Promise<Phone> {
  const wallet = new Wallet({
    trustedRoots: TEST_NETWORK_ROOTS,
    // The first phone keeps the file name it always had.
    keyStore: new FileKeyStore(
      join(setup.dir, i === 0 ? "phone.json" : `phone-${i}.json`),
      FileKeyStore.newDeviceSecret(),
    ),
    client: new PayClient({ baseUrl: setup.payUrl, sessionToken: setup.sessionTokens[i] as string }),
    keyStretching: setup.keyStretching ?? "memory-constrained",
  });
  await wallet.bindThisDevice("Drill phone");
  await wallet.setPin(PIN);
  const enrollment = await wallet.startCardEnrollment({ pan: card.pan, expiry: card.expiry, cvc: card.cvc });
  const enrolled = await enrollment.complete(await setup.issuer.latestCode(card.phone));
  return { wallet, cardId: enrolled.id };
}

/** Free phones, handed out first come first served. */
export class PhonePool<P = Phone> {
  #free: P[];
  #waiting: Array<(phone: P) => void> = [];

  constructor(phones: readonly P[]) {
    if (phones.length === 0) throw new Error("the load needs at least one phone");
    this.#free = [...phones];
  }

  /** `work` on a free phone, which is busy until `work` settles. */
  async with<T>(work: (phone: P) => Promise<T>): Promise<T> {
    const phone = this.#free.shift() ?? (await new Promise<P>((resolve) => this.#waiting.push(resolve)));
    try {
      return await work(phone);
    } finally {
      const next = this.#waiting.shift();
      if (next) next(phone);
      else this.#free.push(phone);
    }
  }
}
