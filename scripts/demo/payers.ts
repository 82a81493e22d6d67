/**
 * The demo payers `npm start` makes ready (issue 9, item 8): two messenger accounts, friends with each other, with a
 * direct chat that holds a greeting, so that a newcomer signs in to the messenger at once and pays from a checkout
 * link. Each is the holder of one of the issuer simulator's test cards, and has that card's phone on file as its
 * phone number, so the card's one-time code goes to "their" phone (the simulator's test inbox).
 *
 * What cannot be made ready is made ready by the newcomer in the browser: the device key (K_dev) is created in the
 * browser and never leaves it, so no script can bind that browser or enroll a card for it (DESIGN.md, "Split
 * custody"). Everything here goes through the messenger's public APIs, as the web app calls them.
 *
 * Idempotent across restarts: the credentials are made once, with random passwords, and kept in
 * `<demo dir>/payers.json` (mode 0600; `MPAY_DEMO_DIR`, `.data/demo` by default), written before any account is
 * created so a crash cannot lose a password; an account, friendship, chat or greeting that exists is kept.
 */
import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { DemoError, type DemoConfig } from "./config.ts";
import { AccountRefusedError, createMessengerAccount } from "./messenger.ts";
import { MessengerAnswerError, MessengerSession } from "./messenger-app.ts";
import { APPROVING_TEST_CARDS, type TestCard } from "./test-cards.ts";

export interface DemoPayer {
  displayName: string;
  phoneNumber: string;
  password: string;
  card: TestCard;
}

/** Who they are: the holders of the first two approving test cards, each at its own card company when two run. */
const PEOPLE = [
  { displayName: "Kim Minji", holderName: "KIM MINJI" },
  { displayName: "Lee Junho", holderName: "LEE JUNHO" },
] as const;

/** The greeting and its answer, with fixed client message ids: a restart resends them, which stores nothing new. */
const CONVERSATION = [
  {
    from: 0,
    clientMessageId: "mpay-demo-greeting",
    text: "Hi Junho! I'm trying MPay: open a checkout link and pay right here in the messenger.\n준호야, 안녕! 메신저 안에서 바로 MPay로 결제해 보고 있어.",
  },
  {
    from: 1,
    clientMessageId: "mpay-demo-greeting-reply",
    text: "Nice, Minji! Tell me how it goes.\n좋다, 민지야! 어땠는지 알려 줘.",
  },
] as const;

const fileSchema = z.object({
  payers: z
    .array(
      z.object({
        displayName: z.string().min(1),
        phoneNumber: z.string().regex(/^\+\d{8,15}$/),
        password: z.string().min(12),
        cardNumber: z.string().regex(/^\d{16}$/),
      }),
    )
    .length(PEOPLE.length),
});
type PayersFile = z.infer<typeof fileSchema>;

export function payersFile(demoDir: string): string {
  return join(demoDir, "payers.json");
}

/**
 * `mpay-xxxx-xxxx-xxxx`: 60 random bits from an alphabet without look-alikes (no 0/o, 1/l), to be typed from the
 * terminal. 32 letters, so `byte & 31` is unbiased.
 */
export function newDemoPassword(): string {
  const alphabet = "abcdefghijkmnpqrstuvwxyz23456789";
  const chars = [...crypto.getRandomValues(new Uint8Array(12))].map((byte) => alphabet[byte & 31]).join("");
  return `mpay-${chars.slice(0, 4)}-${chars.slice(4, 8)}-${chars.slice(8)}`;
}

/** Each person's card: at the first running card company, the second person's at the second when there is one. */
export function demoPayerCards(issuers: readonly string[]): TestCard[] {
  const withCards = issuers.filter((id) => APPROVING_TEST_CARDS.some((card) => card.issuerId === id));
  if (withCards.length === 0)
    throw new DemoError(`no demo test card belongs to a running card company (${issuers.join(", ") || "none"})`);
  return PEOPLE.map((person, index) => {
    const issuerId = withCards[Math.min(index, withCards.length - 1)];
    const card = APPROVING_TEST_CARDS.find((c) => c.issuerId === issuerId && c.holderName === person.holderName);
    if (!card) throw new DemoError(`no test card of ${person.holderName} at ${issuerId}`);
    return card;
  });
}

function fromFile(file: PayersFile, path: string): DemoPayer[] {
  return file.payers.map((payer) => {
    const card = APPROVING_TEST_CARDS.find((c) => c.pan === payer.cardNumber);
    if (!card) throw new DemoError(`${path} names a card that is not a demo test card; delete it and start again`);
    return { displayName: payer.displayName, phoneNumber: payer.phoneNumber, password: payer.password, card };
  });
}

/** The kept credentials, or null when there are none yet. A file that is not ours is refused, never overwritten. */
async function readPayers(path: string): Promise<DemoPayer[] | null> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) throw new DemoError(`${path} is not in the expected shape; delete it and start again`);
  // Passwords inside: whoever else may read this machine's files may not read these.
  await chmod(path, 0o600);
  return fromFile(parsed.data, path);
}

/** Written whole or not at all (a temporary file renamed over), mode 0600 from the first byte. */
async function writePayers(demoDir: string, payers: DemoPayer[]): Promise<void> {
  await mkdir(demoDir, { recursive: true, mode: 0o700 });
  const file: PayersFile = {
    payers: payers.map((p) => ({
      displayName: p.displayName,
      phoneNumber: p.phoneNumber,
      password: p.password,
      cardNumber: p.card.pan,
    })),
  };
  const path = payersFile(demoDir);
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600, flag: "wx" });
  await rename(temporary, path);
}

/** The account with these credentials exists afterwards (made now, or kept), signed in. */
async function signedIn(messengerUrl: string, payer: DemoPayer, path: string): Promise<MessengerSession> {
  try {
    await createMessengerAccount(messengerUrl, payer);
  } catch (error) {
    // An account on this phone number already exists: kept (a restart); its password must be the kept one.
    if (!(error instanceof AccountRefusedError && error.code === "phone_number_taken")) throw error;
  }
  const session = await MessengerSession.signIn(messengerUrl, payer.phoneNumber, payer.password);
  if (!session)
    throw new DemoError(
      `the messenger account on ${payer.phoneNumber} has another password than ${path} keeps (was the file deleted?); start with a fresh MESSENGER_DATA_DIR, or sign up in the messenger yourself`,
    );
  return session;
}

/** `a` has `b` among its friends (friends are one way, like an address book). */
async function befriend(a: MessengerSession, b: DemoPayer & { accountId: string }): Promise<void> {
  if ((await a.friends()).some((friend) => friend.id === b.accountId)) return;
  await a.addFriend(b.phoneNumber);
}

async function say(session: MessengerSession, chatId: string, clientMessageId: string, text: string): Promise<void> {
  try {
    await session.send(chatId, clientMessageId, text);
  } catch (error) {
    // Greeted before with another wording (an older version of this file): that greeting stays.
    if (!(error instanceof MessengerAnswerError && error.code === "client_message_id_conflict")) throw error;
  }
}

/**
 * Makes the demo payers ready at the messenger (`config.messengerUrl`, which must be up) and answers them with their
 * credentials. `issuers` are the running card companies, which pick the cards on the first start only.
 * This method needs to be idempotent: it runs on every `npm start`.
 */
export async function ensureDemoPayers(
  config: Pick<DemoConfig, "messengerUrl" | "demoDir">,
  issuers: readonly string[],
): Promise<DemoPayer[]> {
  const path = payersFile(config.demoDir);
  let payers = await readPayers(path);
  if (!payers) {
    const cards = demoPayerCards(issuers);
    payers = PEOPLE.map((person, index) => {
      const card = cards[index]!;
      return { displayName: person.displayName, phoneNumber: card.phone, password: newDemoPassword(), card };
    });
    await writePayers(config.demoDir, payers);
  }

  const sessions: MessengerSession[] = [];
  try {
    for (const payer of payers) sessions.push(await signedIn(config.messengerUrl, payer, path));
    const [first, second] = sessions as [MessengerSession, MessengerSession];
    const [one, two] = payers as [DemoPayer, DemoPayer];
    await befriend(first, { ...two, accountId: second.accountId });
    await befriend(second, { ...one, accountId: first.accountId });
    const chat = await first.directChat(second.accountId);
    for (const line of CONVERSATION) await say(sessions[line.from]!, chat.id, line.clientMessageId, line.text);
  } finally {
    await Promise.allSettled(sessions.map((session) => session.signOut()));
  }
  return payers;
}
