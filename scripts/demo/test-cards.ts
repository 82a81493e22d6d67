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
  brand: "visa" | "mastercard" | "local";
  /** As embossed; the demo payers of `npm start` are these cardholders (scripts/demo/payers.ts). */
  holderName: string;
  /** The cardholder's phone on file: the issuer texts the enrollment code there (its test inbox). */
  phone: string;
}

type Row = [issuerId: string, pan: string, cvc: string, brand: TestCard["brand"], holderName: string, phone: string];

// Every approving card expires 12/31; each issuer's visa, mastercard and local card are held by the same three people.
const ROWS: Row[] = [
  ["kstar", "4222000000000012", "742", "visa", "KIM MINJI", "+821055520001"],
  ["sampo", "4111000000000016", "806", "visa", "KIM MINJI", "+821055510001"],
  ["handae", "4333000000000018", "604", "visa", "KIM MINJI", "+821055530001"],
  ["kstar", "5222000000000027", "491", "mastercard", "LEE JUNHO", "+821055520002"],
  ["sampo", "5111000000000021", "932", "mastercard", "LEE JUNHO", "+821055510002"],
  ["handae", "5333000000000023", "052", "mastercard", "LEE JUNHO", "+821055530002"],
  ["kstar", "9422000000000035", "910", "local", "PARK SEOYEON", "+821055520003"],
  ["sampo", "9411000000000038", "980", "local", "PARK SEOYEON", "+821055510003"],
  ["handae", "9433000000000032", "145", "local", "PARK SEOYEON", "+821055530003"],
];

export const APPROVING_TEST_CARDS: readonly TestCard[] = ROWS.map(([issuerId, pan, cvc, brand, holderName, phone]) => ({
  issuerId,
  pan,
  expiry: "12/31",
  cvc,
  brand,
  holderName,
  phone,
}));

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

/** `4111 0000 0000 0016`: a test card's whole number, as printed on it (test cards only). */
export function groupedPan(pan: string): string {
  return pan.replace(/(\d{4})(?=\d)/g, "$1 ");
}
