/**
 * The demo payers `npm start` makes ready (scripts/demo/payers.ts; issue 9, item 8), against a real messenger over
 * its public APIs: two accounts on the phones of two test cards, friends with each other, a direct chat with a
 * greeting; credentials made once with random passwords and kept in payers.json (mode 0600); every later start
 * keeps all of it, and a wiped messenger gets the same accounts back.
 */
import { mkdir, mkdtemp, readFile, rm, stat, chmod, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestMessenger, type TestMessenger } from "../services/messenger/src/testing/messenger.ts";
import { demoPayerCards, ensureDemoPayers, payersFile, type DemoPayer } from "../scripts/demo/payers.ts";
import { MessengerSession } from "../scripts/demo/messenger-app.ts";
import { APPROVING_TEST_CARDS } from "../scripts/demo/test-cards.ts";
import { loadDemoConfig, readDemoUsers } from "../scripts/demo/config.ts";
import { totpLines } from "../scripts/demo/totp.ts";
import { currentCode, newTotpSecret } from "../services/pay/src/credentials/totp.ts";
import { tryItBlock } from "../scripts/demo/try-it.ts";
import { TEST_CARDS } from "../services/issuer/src/cards/test-cards.ts";

let dir: string;
let messenger: TestMessenger;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "mpay-demo-payers-"));
  messenger = await openTestMessenger("pglite");
});

afterAll(async () => {
  await messenger?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function signIn(url: string, payer: DemoPayer): Promise<MessengerSession> {
  const session = await MessengerSession.signIn(url, payer.phoneNumber, payer.password);
  expect(session, `${payer.displayName} signs in`).not.toBeNull();
  return session!;
}

/** What the two see of each other: friends, their one direct chat and its messages. */
async function seenBy(url: string, payers: DemoPayer[]) {
  const [minji, junho] = [await signIn(url, payers[0]!), await signIn(url, payers[1]!)];
  try {
    const chat = await minji.directChat(junho.accountId);
    return {
      minjiFriends: (await minji.friends()).map((f) => [f.displayName, f.phoneNumber, f.id]),
      junhoFriends: (await junho.friends()).map((f) => [f.displayName, f.phoneNumber, f.id]),
      ids: [minji.accountId, junho.accountId],
      chat: { id: chat.id, kind: chat.kind, members: chat.members.map((m) => m.displayName).sort() },
      messages: (await junho.messages(chat.id)).map((m) => [m.sender.displayName, m.text]),
    };
  } finally {
    await Promise.all([minji.signOut(), junho.signOut()]);
  }
}

describe("the demo payers of npm start [pglite]", () => {
  const demoDir = () => join(dir, "demo");
  let first: DemoPayer[];

  it("are two accounts on two test cards' phones, friends with a chat that holds a greeting, kept in a 0600 file", async () => {
    first = await ensureDemoPayers({ messengerUrl: messenger.url, demoDir: demoDir() }, ["kstar"]);
    expect(first.map((p) => [p.displayName, p.phoneNumber, p.card.pan])).toEqual([
      ["Kim Minji", "+821055520001", "4222000000000012"],
      ["Lee Junho", "+821055520002", "5222000000000027"],
    ]);
    // Random passwords, made here: none is committed.
    expect(first[0]!.password).toMatch(/^mpay-[a-km-z2-9]{4}-[a-km-z2-9]{4}-[a-km-z2-9]{4}$/);
    expect(first[0]!.password).not.toBe(first[1]!.password);

    const file = payersFile(demoDir());
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(demoDir())).mode & 0o077).toBe(0);
    const kept = JSON.parse(await readFile(file, "utf8")) as {
      payers: Array<{ phoneNumber: string; password: string }>;
    };
    expect(kept.payers.map((p) => [p.phoneNumber, p.password])).toEqual(first.map((p) => [p.phoneNumber, p.password]));

    const seen = await seenBy(messenger.url, first);
    const [minjiId, junhoId] = seen.ids;
    expect(seen.minjiFriends).toEqual([["Lee Junho", "+821055520002", junhoId]]);
    expect(seen.junhoFriends).toEqual([["Kim Minji", "+821055520001", minjiId]]);
    expect(seen.chat).toMatchObject({ kind: "direct", members: ["Kim Minji", "Lee Junho"] });
    expect(seen.messages).toHaveLength(2);
    expect(seen.messages[0]).toEqual(["Kim Minji", expect.stringContaining("Hi Junho!")]);
    expect(seen.messages[0]![1]).toMatch(/[가-힣]/);
    expect(seen.messages[1]).toEqual(["Lee Junho", expect.stringContaining("Minji")]);
  });

  it("are kept as they are on the next start: same passwords, cards and chat, no second greeting, file back to 0600", async () => {
    const before = await seenBy(messenger.url, first);
    await chmod(payersFile(demoDir()), 0o644);
    // Other card companies running now do not change the cards chosen on the first start.
    const again = await ensureDemoPayers({ messengerUrl: messenger.url, demoDir: demoDir() }, [
      "sampo",
      "kstar",
      "handae",
    ]);
    expect(again).toEqual(first);
    expect((await stat(payersFile(demoDir()))).mode & 0o777).toBe(0o600);
    expect(await seenBy(messenger.url, again)).toEqual(before);
  });

  it("come back with the kept credentials on a messenger whose data was wiped", async () => {
    const wiped = await openTestMessenger("pglite");
    try {
      const again = await ensureDemoPayers({ messengerUrl: wiped.url, demoDir: demoDir() }, ["kstar"]);
      expect(again).toEqual(first);
      const seen = await seenBy(wiped.url, again);
      expect(seen.minjiFriends.map((f) => f[0])).toEqual(["Lee Junho"]);
      expect(seen.messages).toHaveLength(2);
    } finally {
      await wiped.close();
    }
  });

  it("say so in one line when an account exists whose password the file does not keep (the file was deleted)", async () => {
    const elsewhere = join(dir, "other-demo");
    await expect(ensureDemoPayers({ messengerUrl: messenger.url, demoDir: elsewhere }, ["kstar"])).rejects.toThrow(
      /the messenger account on \+821055520001 has another password than .*payers\.json keeps/,
    );
    // The accounts that were there are untouched: the kept credentials still sign in.
    await (await signIn(messenger.url, first[0]!)).signOut();
  });
});

describe("the demo payers' test cards", () => {
  it("are the issuer simulator's own, with the holder and the phone on file it has (so the code goes to the payer)", () => {
    for (const card of APPROVING_TEST_CARDS) {
      const seeded = TEST_CARDS.find((c) => c.pan === card.pan);
      expect(seeded, card.pan).toMatchObject({
        issuerId: card.issuerId,
        expiry: card.expiry,
        cvc: card.cvc,
        holderName: card.holderName,
        phone: card.phone,
        status: "active",
      });
    }
  });

  it("are at the first running card company, the second payer's at the second when there is one", () => {
    const pans = (issuers: string[]) => demoPayerCards(issuers).map((card) => [card.issuerId, card.holderName]);
    expect(pans(["sampo", "kstar", "handae"])).toEqual([
      ["sampo", "KIM MINJI"],
      ["kstar", "LEE JUNHO"],
    ]);
    expect(pans(["handae"])).toEqual([
      ["handae", "KIM MINJI"],
      ["handae", "LEE JUNHO"],
    ]);
    // A company without demo test cards is passed over; none at all is said plainly.
    expect(pans(["acme", "kstar"])).toEqual([
      ["kstar", "KIM MINJI"],
      ["kstar", "LEE JUNHO"],
    ]);
    expect(() => demoPayerCards(["acme"])).toThrow(/no demo test card belongs to a running card company \(acme\)/);
  });
});

describe("npm start's Try-it block", () => {
  const config = loadDemoConfig({ MPAY_DEMO_DIR: "/srv/demo", MPAY_DATA_DIR: "/srv/pay" });
  const payers: DemoPayer[] = demoPayerCards(["sampo", "kstar"]).map((card, index) => ({
    displayName: index === 0 ? "Kim Minji" : "Lee Junho",
    phoneNumber: card.phone,
    password: `mpay-test-pass-wor${index}`,
    card,
  }));
  const issuers = new Map([
    ["sampo", "Sampo Card"],
    ["kstar", "KStar Card"],
  ]);

  it("gives each payer's phone, password, test card and test-inbox page, and names the merchant's key file", () => {
    const block = tryItBlock(config, payers, {
      issuers,
      merchant: true,
      testInbox: true,
      dashboardOwner: { email: "owner@demo-mall.test", password: "demo-owner-pass" },
      consoleAdmin: { email: "admin@mpay.test", password: "demo-admin-pass" },
    });
    expect(block).toContain("Merchant dashboard http://localhost:4300/dashboard");
    expect(block).toContain("owner@demo-mall.test   password demo-owner-pass   sign-in code: npm run demo -- totp");
    expect(block).toContain("Operator console http://localhost:4300/console");
    expect(block).toContain("admin@mpay.test   password demo-admin-pass   sign-in code: npm run demo -- totp");
    expect(block).toContain("authenticator seeds are kept in /srv/pay/demo-users.json");
    expect(block).toContain("messenger http://localhost:4300/   ·   wallet http://localhost:4300/wallet");
    expect(block).toContain("Kim Minji   phone +821055510001   password mpay-test-pass-wor0");
    expect(block).toContain("test card  Sampo Card visa 4111 0000 0000 0016, expiry 12/31, CVC 806");
    expect(block).toContain("its codes  http://127.0.0.1:4100/test-inbox?phone=%2B821055510001");
    expect(block).toContain("Lee Junho   phone +821055520002   password mpay-test-pass-wor1");
    expect(block).toContain("test card  KStar Card mastercard 5222 0000 0000 0027, expiry 12/31, CVC 491");
    expect(block).toContain(
      "npm run demo -- checkout   (Demo Mall, 35,000 KRW; its keys stay in /srv/pay/demo-merchant.json)",
    );
    expect(block).toContain("kept in /srv/demo/payers.json");
  });

  it("says what is missing: the test inbox off, no demo merchant, a card company not running", () => {
    const block = tryItBlock(config, payers, {
      issuers: new Map([["kstar", "KStar Card"]]),
      merchant: false,
      testInbox: false,
      dashboardOwner: null,
      consoleAdmin: null,
    });
    expect(block).not.toContain("Merchant dashboard");
    expect(block).not.toContain("Operator console");
    expect(block).not.toContain("demo-users.json");
    expect(block).not.toContain("/test-inbox");
    expect(block).toContain("the issuer host's test inbox is off (ISSUER_TEST_INBOX), so no card can be added");
    expect(block).not.toContain("npm run demo -- checkout");
    expect(block).toContain("no demo merchant here");
    expect(block).toContain(
      "sampo visa 4111 0000 0000 0016, expiry 12/31, CVC 806 (its card company sampo is not running now",
    );
  });
});

describe("npm run demo -- totp", () => {
  const now = new Date("2026-12-04T06:00:10Z");
  const people = {
    dashboard: { email: "owner@demo-mall.test", password: "owner-pass", totpSecret: newTotpSecret() },
    console: { email: "admin@mpay.test", password: "admin-pass", totpSecret: newTotpSecret() },
  };
  const where = { webUrl: "http://localhost:4300", file: "/srv/pay/demo-users.json" };

  it("labels each person's current code (the one the pay server accepts), and never prints a seed or a password", () => {
    const lines = totpLines(people, ["dashboard", "console"], where, now);
    expect(lines).toEqual([
      `Merchant dashboard  ${currentCode(people.dashboard.totpSecret, now)}  owner@demo-mall.test at http://localhost:4300/dashboard`,
      `Operator console    ${currentCode(people.console.totpSecret, now)}  admin@mpay.test at http://localhost:4300/console`,
      "(each code is good for 20 more seconds, once; the passwords are in /srv/pay/demo-users.json)",
    ]);
    const text = lines.join("\n");
    for (const person of Object.values(people))
      for (const secret of [person.password, person.totpSecret]) expect(text).not.toContain(secret);
    expect(totpLines(people, ["console"], where, now)[0]).toMatch(/^Operator console {2}\d{6} {2}admin@mpay\.test/);
    expect(totpLines({ dashboard: people.dashboard }, ["dashboard", "console"], where, now)[1]).toBe(
      "Operator console    none: no demo sign-in for it in /srv/pay/demo-users.json",
    );
  });

  it("reads each person kept in demo-users.json in its shape, and nothing from a file that is missing", async () => {
    const payDataDir = join(dir, "pay-users");
    expect(await readDemoUsers({ payDataDir })).toEqual({});
    await mkdir(payDataDir, { recursive: true });
    await writeFile(join(payDataDir, "demo-users.json"), JSON.stringify({ ...people, console: { email: 1 } }));
    expect(await readDemoUsers({ payDataDir })).toEqual({ dashboard: people.dashboard });
  });
});
