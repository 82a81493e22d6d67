/**
 * The simulator's test cards that approve a 35,000 KRW payment (services/issuer/README.md, "Test cards"). Public
 * test data, printed only masked. Each run takes the next one: an issuer sends at most 5 one-time codes per card
 * a day, so taking turns lets the demo run dozens of times a day before a card is paused.
 */
export interface TestCard {
  issuerId: string;
  pan: string;
  expiry: string;
  cvc: string;
  /** The cardholder's phone on file: the issuer texts the enrollment code there (its test inbox). */
  phone: string;
}

export const APPROVING_TEST_CARDS: readonly TestCard[] = [
  { issuerId: "kstar", pan: "4222000000000012", expiry: "12/31", cvc: "742", phone: "+821055520001" },
  { issuerId: "sampo", pan: "4111000000000016", expiry: "12/31", cvc: "806", phone: "+821055510001" },
  { issuerId: "handae", pan: "4333000000000018", expiry: "12/31", cvc: "604", phone: "+821055530001" },
  { issuerId: "kstar", pan: "5222000000000027", expiry: "12/31", cvc: "491", phone: "+821055520002" },
  { issuerId: "sampo", pan: "5111000000000021", expiry: "12/31", cvc: "932", phone: "+821055510002" },
  { issuerId: "handae", pan: "5333000000000023", expiry: "12/31", cvc: "052", phone: "+821055530002" },
  { issuerId: "kstar", pan: "9422000000000035", expiry: "12/31", cvc: "910", phone: "+821055520003" },
  { issuerId: "sampo", pan: "9411000000000038", expiry: "12/31", cvc: "980", phone: "+821055510003" },
  { issuerId: "handae", pan: "9433000000000032", expiry: "12/31", cvc: "145", phone: "+821055530003" },
];

/** The cards of the issuers that run, starting with run number `run`'s turn and then the others (after a pause). */
export function cardsInTurn(run: number, issuers: readonly string[]): TestCard[] {
  const usable = APPROVING_TEST_CARDS.filter((card) => issuers.includes(card.issuerId));
  const first = usable.length === 0 ? 0 : run % usable.length;
  return [...usable.slice(first), ...usable.slice(0, first)];
}

/** `•••• 0012`: the last four only. */
export function maskedPan(pan: string): string {
  return `•••• ${pan.slice(-4)}`;
}
