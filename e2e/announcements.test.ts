/**
 * MPay's announcements across the whole system: the pay server (with its maintenance worker running) writes an
 * announcement in a transaction, and the real messenger process stores it in the payer's messenger account, where
 * the account's own session reads it — exactly once even when it is sent twice, and after the messenger was down
 * and came back (the worker's retries deliver it, nobody calls anything by hand).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OfficialMessage } from "@mpay/protocol";
import { freshDatabase, type FreshDatabase } from "@mpay/service-kit/testing";
import { queryRows } from "../services/pay/src/db/client.ts";
import { systemBackends } from "../services/pay/src/testing/databases.ts";
import { call, openTestPay, type TestPay } from "../services/pay/src/testing/system.ts";
import type { AnnouncementRef } from "../services/pay/src/announcements/service.ts";
import { Browser, readForm } from "../services/messenger/src/testing/browser.ts";
import { PAY_REDIRECT } from "../services/messenger/src/testing/messenger.ts";
import { createAccount, type TestAccount } from "../services/messenger/src/testing/rp.ts";
import { freePorts, startMessengerProcess, type MessengerProcess } from "./support/messenger-process.ts";
import { finishSignIn, startSignIn } from "./support/payer-sign-in.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe.each(systemBackends())("announcements reach the payer's messenger [%s]", (backend) => {
  const clientSecret = randomBytes(32).toString("base64url");
  let dir: string;
  let messengerDb: FreshDatabase;
  let messengerEnv: Record<string, string>;
  let messenger: MessengerProcess | undefined;
  /** What the messenger processes stopped so far wrote. */
  let earlierOutput = "";
  let pay: TestPay;
  let account: TestAccount;
  let payerId: string;
  let session: string;

  const inbox = async () => {
    const response = await fetch(`${messenger!.url}/api/messages?limit=100`, {
      headers: { authorization: `Bearer ${session}` },
    });
    expect(response.status).toBe(200);
    return (await response.json()) as { data: OfficialMessage[]; unreadCount: number };
  };
  const outboxRow = async (id: string) => {
    const [row] = await queryRows<{ status: string; attempts: number; last_error: string | null }>(
      pay.system.database.db,
      sql`select status, attempts, last_error from announcements where id = ${id}`,
    );
    return row;
  };
  /** A change in a pay-server transaction, announced in it; handed to the sender after commit as a caller would. */
  const changeAndAnnounce = async (deviceName: string): Promise<AnnouncementRef> => {
    const announced = await pay.system.database.db.transaction(async (tx) => {
      const deviceId = `dev_01JE2E${randomBytes(10).toString("hex").toUpperCase().slice(0, 20)}`;
      return pay.system.announcements.announce(tx, payerId, {
        kind: "device_pending",
        deviceId,
        deviceName,
        activatesAt: new Date(Date.now() + 86_400_000),
      });
    });
    pay.system.announcements.sendSoon(announced);
    return announced;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "mpay-announce-"));
    messengerDb = await freshDatabase(backend, "messenger_test");
    const [port] = await freePorts(1);
    messengerEnv = {
      MESSENGER_PORT: String(port),
      MESSENGER_DATA_DIR: join(dir, "messenger"),
      ...(messengerDb.url ? { MESSENGER_DATABASE_URL: messengerDb.url } : {}),
      MESSENGER_PAY_CLIENT_SECRET: clientSecret,
      MESSENGER_PAY_REDIRECT_URIS: PAY_REDIRECT,
      // Every line it logs, for the leak check at the end.
      LOG_LEVEL: "info",
    };
    messenger = await startMessengerProcess(messengerEnv);
    pay = await openTestPay(backend, {
      workers: true,
      expiryIntervalMs: 200,
      announcements: { retryBaseMs: 200, retryMaxMs: 1_000, timeoutMs: 2_000, batchSize: 20 },
      messenger: { issuer: messenger.url, clientId: "mpay-pay", clientSecret, clientSecretFile: "/nonexistent" },
    });
    pay.system.startWorkers();

    // The payer signs in to MPay with the messenger account, through the messenger's real login form.
    account = await createAccount(messenger.url, "Jung Haneul");
    const start = await startSignIn(pay.app);
    const browser = new Browser();
    const opened = await browser.open(start.authorizationUrl, PAY_REDIRECT);
    const submitted = await browser.submit(
      opened.page!,
      readForm(opened.page!.body, /\/login$/),
      { phone: account.phoneNumber, password: account.password },
      PAY_REDIRECT,
    );
    const signedIn = await finishSignIn(pay.app, submitted.callback!.search.slice(1), start.codeVerifier);
    expect(signedIn.status).toBe(200);
    payerId = signedIn.body.payer.id;

    // The same person in the messenger app: a session of its own there.
    const opening = await fetch(`${messenger.url}/api/sessions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ phoneNumber: account.phoneNumber, password: account.password }),
    });
    expect(opening.status).toBe(201);
    session = ((await opening.json()) as { sessionToken: string }).sessionToken;
  });
  afterAll(async () => {
    await messenger?.stop();
    await pay?.close();
    await messengerDb?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("an announcement written in a pay-server transaction arrives in the account's messages, once even when sent twice", async () => {
    const announced = await changeAndAnnounce("Pixel 9");
    const arrived = await until("the announcement in the inbox", async () =>
      (await inbox()).data.find((m) => m.id === announced.id),
    );
    expect(arrived).toMatchObject({ kind: "device_pending", from: { account: "mpay", name: "MPay" }, readAt: null });
    expect(arrived.text).toMatch(/^A new device, "Pixel 9", was added to your MPay account\./);
    expect(arrived.actions).toEqual([
      {
        label: "Not me — cancel",
        action: expect.stringMatching(/^mpay:cancel-pending-change\/dev_/) as unknown as string,
      },
    ]);
    await until("the outbox row delivered", async () => (await outboxRow(announced.id))?.status === "delivered");

    // As if the messenger's answer had been lost: the worker sends the same announcement a second time.
    await pay.system.database.db.execute(
      sql`update announcements set status = 'pending', next_attempt_at = now() where id = ${announced.id}`,
    );
    const resent = await until("the second send", async () => {
      const row = await outboxRow(announced.id);
      return row?.status === "delivered" && row.attempts === 2 ? row : undefined;
    });
    expect(resent.attempts).toBe(2);
    expect((await inbox()).data.filter((m) => m.id === announced.id)).toHaveLength(1);
  });

  it("survives the messenger being down: the change commits, and the worker delivers it once the messenger is back", async () => {
    await messenger!.stop();
    earlierOutput += messenger!.output();
    const url = messenger!.url;
    messenger = undefined;
    const announced = await changeAndAnnounce("Galaxy S25");
    // Down: attempts fail, the row waits and is retried, nothing is lost.
    const waiting = await until("retries while the messenger is down", async () => {
      const row = await outboxRow(announced.id);
      return row && row.attempts >= 2 ? row : undefined;
    });
    expect(waiting).toMatchObject({ status: "pending", last_error: "unreachable" });

    messenger = await startMessengerProcess(messengerEnv);
    expect(messenger.url).toBe(url);
    const arrived = await until("the announcement after the messenger came back", async () =>
      (await inbox()).data.find((m) => m.id === announced.id),
    );
    expect(arrived.text).toContain('"Galaxy S25"');
    await until("the outbox row delivered", async () => (await outboxRow(announced.id))?.status === "delivered");

    const { data, unreadCount } = await inbox();
    expect(data.map((m) => m.id).filter((id) => id === announced.id)).toHaveLength(1);
    expect(data[0]?.id).toBe(announced.id); // the newest the account has
    expect(data).toHaveLength(2);
    expect(unreadCount).toBe(2);
    const read = await fetch(`${messenger.url}/api/messages/${announced.id}/read`, {
      method: "POST",
      headers: { authorization: `Bearer ${session}` },
    });
    expect(read.status).toBe(200);
    expect((await inbox()).unreadCount).toBe(1);
  });

  it("leaks no client secret or session token into either side's logs", () => {
    const payLog = pay.logLines.join("\n");
    const messengerLog = earlierOutput + messenger!.output();
    expect(payLog).toContain("announcement delivered");
    expect(messengerLog).toContain("official_message_received");
    expect(messengerLog).toContain("app session opened");
    for (const secret of [clientSecret, session, account.password]) {
      expect(payLog).not.toContain(secret);
      expect(messengerLog).not.toContain(secret);
    }
  });
});
