/**
 * The test cards each default issuer seeds into its database on first start (documented in services/issuer/README.md
 * and the root README). Every issuer has the same seven outcomes, so any test can run against any issuer: three
 * cards that approve (one per brand), then one for each decline a card's own state causes.
 *
 * The CVC column is what a payer types. No database holds it: the issuer recomputes it from the PAN and expiry under
 * its card verification key (keys/cvc.ts); a unit test checks this table against the fixture keys.
 */
export const CARD_STATUSES = ["active", "lost_or_stolen", "fraud_flagged", "closed"] as const;
export type CardStatus = (typeof CARD_STATUSES)[number];

export interface TestCard {
  readonly issuerId: string;
  readonly pan: string;
  /** As printed, `MM/YY`. */
  readonly expiry: string;
  readonly cvc: string;
  readonly holderName: string;
  /** E.164; the simulator's test inbox shows the one-time codes "sent" to it. */
  readonly phone: string;
  /**
   * The card's billing currency: KRW for every test card, as Korean issuers' cards are. A purchase in any other
   * currency MPay accepts is converted to it at the issuer's reference rates (fx/rates.ts).
   */
  readonly currency: "KRW";
  /** In the card's currency (KRW has no minor unit). */
  readonly creditLimit: number;
  readonly status: CardStatus;
  /** What a payment with it does, for the README. */
  readonly outcome: string;
}

type Row = [pan: string, expiry: string, cvc: string, limit: number, status: CardStatus, outcome: string];

/** Per issuer, in this order: visa, mastercard and local approvals; low limit; expired; lost; fraud-flagged. */
const OUTCOMES = [
  "approves",
  "approves",
  "approves",
  "insufficient_funds above 30,000 KRW",
  "expired_card",
  "lost_or_stolen",
  "suspected_fraud",
];
const HOLDERS = ["KIM MINJI", "LEE JUNHO", "PARK SEOYEON", "CHOI WOOJIN", "JUNG HAEUN", "KANG DOYUN", "YOON JIWOO"];

const ROWS: Record<string, Row[]> = {
  sampo: [
    ["4111000000000016", "12/31", "806", 5_000_000, "active", OUTCOMES[0]!],
    ["5111000000000021", "12/31", "932", 10_000_000, "active", OUTCOMES[1]!],
    ["9411000000000038", "12/31", "980", 3_000_000, "active", OUTCOMES[2]!],
    ["4111000000000040", "12/31", "652", 30_000, "active", OUTCOMES[3]!],
    ["5111000000000054", "01/24", "979", 5_000_000, "active", OUTCOMES[4]!],
    ["4111000000000065", "12/31", "592", 5_000_000, "lost_or_stolen", OUTCOMES[5]!],
    ["9411000000000079", "12/31", "339", 5_000_000, "fraud_flagged", OUTCOMES[6]!],
  ],
  kstar: [
    ["4222000000000012", "12/31", "742", 5_000_000, "active", OUTCOMES[0]!],
    ["5222000000000027", "12/31", "491", 10_000_000, "active", OUTCOMES[1]!],
    ["9422000000000035", "12/31", "910", 3_000_000, "active", OUTCOMES[2]!],
    ["4222000000000046", "12/31", "471", 30_000, "active", OUTCOMES[3]!],
    ["5222000000000050", "01/24", "263", 5_000_000, "active", OUTCOMES[4]!],
    ["4222000000000061", "12/31", "896", 5_000_000, "lost_or_stolen", OUTCOMES[5]!],
    ["9422000000000076", "12/31", "879", 5_000_000, "fraud_flagged", OUTCOMES[6]!],
  ],
  handae: [
    ["4333000000000018", "12/31", "604", 5_000_000, "active", OUTCOMES[0]!],
    ["5333000000000023", "12/31", "052", 10_000_000, "active", OUTCOMES[1]!],
    ["9433000000000032", "12/31", "145", 3_000_000, "active", OUTCOMES[2]!],
    ["4333000000000042", "12/31", "838", 30_000, "active", OUTCOMES[3]!],
    ["5333000000000056", "01/24", "871", 5_000_000, "active", OUTCOMES[4]!],
    ["4333000000000067", "12/31", "629", 5_000_000, "lost_or_stolen", OUTCOMES[5]!],
    ["9433000000000073", "12/31", "296", 5_000_000, "fraud_flagged", OUTCOMES[6]!],
  ],
};

const PHONE_PREFIX: Record<string, string> = { sampo: "+8210555100", kstar: "+8210555200", handae: "+8210555300" };

export const TEST_CARDS: readonly TestCard[] = Object.entries(ROWS).flatMap(([issuerId, rows]) =>
  rows.map(([pan, expiry, cvc, creditLimit, status, outcome], index) => ({
    issuerId,
    pan,
    expiry,
    cvc,
    holderName: HOLDERS[index] ?? "TEST CARDHOLDER",
    phone: `${PHONE_PREFIX[issuerId]}${String(index + 1).padStart(2, "0")}`,
    currency: "KRW" as const,
    creditLimit,
    status,
    outcome,
  })),
);

export function testCardsOf(issuerId: string): TestCard[] {
  return TEST_CARDS.filter((card) => card.issuerId === issuerId);
}

/** Named picks for tests and the demo: `testCard("sampo", "lost")`. */
const KINDS = { approves: 0, mastercard: 1, local: 2, lowLimit: 3, expired: 4, lost: 5, fraud: 6 } as const;
export type TestCardKind = keyof typeof KINDS;

export function testCard(issuerId: string, kind: TestCardKind): TestCard {
  const card = testCardsOf(issuerId)[KINDS[kind]];
  if (!card) throw new Error(`no test card ${kind} at ${issuerId}`);
  return card;
}
