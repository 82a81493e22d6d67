/**
 * Announcements from the outbox to the real messenger over HTTP: written in the caller's transaction (so only a
 * committed change is announced), delivered right after commit, retried with backoff while the messenger is down
 * or hung — without holding up the caller — and stored once however often they are sent.
 */
import { createServer, type Server, type Socket } from "node:net";
import { sql } from "drizzle-orm";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { announcementOf, type OfficialMessage } from "@mpay/protocol";
import { systemClock } from "@mpay/service-kit";
import { createAccount, openTestMessenger, type TestAccount, type TestMessenger } from "@mpay/testing/messenger";
import { queryRows } from "../db/client.ts";
import { testBackends } from "../testing/databases.ts";
import { openTestPay, type TestPay } from "../testing/system.ts";
import { MessengerInboxClient } from "./client.ts";
import { AnnouncementService } from "./service.ts";
import type { AnnouncementRow } from "./store.ts";

const RETRY = { retryBaseMs: 300, retryMaxMs: 1_000, timeoutMs: 1_500, batchSize: 20 };
const resetId = () => `prs_01JTEST${Math.random().toString(36).slice(2, 12).toUpperCase().padEnd(19, "0")}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(testBackends())("announcements to the messenger [%s]", (backend) => {
  let messenger: TestMessenger;
  let pay: TestPay;
  let account: TestAccount;
  let payerId: string;
  let session: string;

  const announceReset = (id = resetId()) =>
    pay.system.database.db.transaction((tx) =>
      pay.system.announcements.announce(tx, payerId, {
        kind: "pin_reset_pending",
        resetId: id,
        activatesAt: new Date("2026-03-02T14:05:00Z"),
      }),
    );
  const row = async (id: string) => {
    const [found] = await queryRows<Record<string, unknown>>(
      pay.system.database.db,
      sql`select *, extract(epoch from next_attempt_at - now()) * 1000 as due_in_ms from announcements where id = ${id}`,
    );
    return found as
      | (Record<keyof AnnouncementRow, unknown> & {
          status: string;
          attempts: number;
          last_error: string | null;
          due_in_ms: string;
        })
      | undefined;
  };
  const inbox = async () => {
    const response = await fetch(`${messenger.url}/api/messages?limit=100`, {
      headers: { authorization: `Bearer ${session}` },
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as { data: OfficialMessage[] }).data;
  };
  /** A retry wait of which `left` ms remain `passed` ms after the attempt was drawn from [ceiling/2, ceiling]. */
  const expectWait = (left: number, passed: number, ceiling: number) => {
    expect(left).toBeLessThanOrEqual(ceiling);
    expect(left + passed).toBeGreaterThanOrEqual(ceiling / 2);
  };
  const waitUntilDue = async (id: string) => {
    const dueIn = Number((await row(id))?.due_in_ms ?? 0);
    if (dueIn > 0) await sleep(dueIn + 50);
  };

  beforeAll(async () => {
    // Persistent, so that it can be stopped and started again on the same database.
    messenger = await openTestMessenger(backend, { persistent: true });
    account = await createAccount(messenger.url, "Yoon Seojin");
    const opened = await fetch(`${messenger.url}/api/sessions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ phoneNumber: account.phoneNumber, password: account.password }),
    });
    session = ((await opened.json()) as { sessionToken: string }).sessionToken;
    pay = await openTestPay(backend, {
      messenger: {
        issuer: messenger.issuer,
        clientId: "mpay-pay",
        clientSecret: messenger.paySecret,
        clientSecretFile: "/nonexistent",
      },
      announcements: RETRY,
    });
    // The payer of that messenger account, as a sign-in makes it (the sign-in itself is e2e/payer-signin.test.ts).
    payerId = (
      await pay.system.payers.openSession({
        subject: account.id,
        displayName: account.displayName,
        phoneNumber: account.phoneNumber,
      })
    ).payer.id;
  });
  afterAll(async () => {
    await pay?.close();
    await messenger?.close();
  });

  it("announces only a change that commits", async () => {
    const id = resetId();
    const rolledBack = await pay.system.database.db
      .transaction(async (tx) => {
        await pay.system.announcements.announce(tx, payerId, {
          kind: "pin_reset_pending",
          resetId: id,
          activatesAt: new Date(),
        });
        throw new Error("the change failed");
      })
      .catch((error: Error) => error.message);
    expect(rolledBack).toBe("the change failed");
    const [count] = await queryRows<{ n: number }>(
      pay.system.database.db,
      sql`select count(*)::int as n from announcements`,
    );
    expect(Number(count?.n)).toBe(0);
    expect(await pay.system.announcements.deliverDue()).toBe(0);
    expect(await inbox()).toEqual([]);

    // Facts that do not fit a message fail the caller's transaction instead of going unannounced.
    const refused = pay.system.database.db.transaction((tx) =>
      pay.system.announcements.announce(tx, payerId, {
        kind: "card_enrolled",
        cardId: "card_01JTESTCARD0000000000000AB",
        brand: "visa",
        last4: "4111111111111111",
        deviceName: "x",
      }),
    );
    await expect(refused).rejects.toThrow(/last4/);
  });

  it("delivers right after commit, and a resend after a lost answer is still one message", async () => {
    const announced = await announceReset();
    expect(announced.id).toMatch(/^ann_[0-9A-Z]{26}$/);
    expect((await row(announced.id))?.status).toBe("pending");
    pay.system.announcements.sendSoon(announced);
    await pay.system.announcements.settle();
    expect((await row(announced.id))?.status).toBe("delivered");
    const delivered = (await inbox()).filter((m) => m.id === announced.id);
    expect(delivered).toHaveLength(1);
    expect(delivered[0]).toMatchObject({
      from: { account: "mpay", name: "MPay" },
      kind: "pin_reset_pending",
      readAt: null,
    });
    expect(delivered[0]?.text).toContain("A reset of your MPay PIN was requested");
    // The facts travel with it, for the messenger app to write in the reader's language and time zone.
    expect(delivered[0]?.params).toEqual({ activatesAt: "2026-03-02T14:05:00.000Z" });
    expect(delivered[0] && announcementOf(delivered[0])).toEqual({
      kind: "pin_reset_pending",
      params: { activatesAt: "2026-03-02T14:05:00.000Z" },
    });
    expect(delivered[0]?.actions).toEqual([
      {
        label: "Not me — cancel",
        action: expect.stringMatching(/^mpay:cancel-pending-change\/prs_/) as unknown as string,
      },
    ]);

    // The messenger stored it but its answer was lost: the row is pending again, and the retry sends it again.
    await pay.system.database.db.execute(
      sql`update announcements set status = 'pending', next_attempt_at = now() where id = ${announced.id}`,
    );
    expect(await pay.system.announcements.deliverDue()).toBe(1);
    expect(await pay.system.announcements.deliver(announced.id)).toBe("not_due");
    expect((await inbox()).filter((m) => m.id === announced.id)).toHaveLength(1);

    // A row written before announcements had params still goes, as text only (the app shows its text).
    const older = await announceReset();
    await pay.system.database.db.execute(sql`update announcements set params = null where id = ${older.id}`);
    expect(await pay.system.announcements.deliver(older.id)).toBe("delivered");
    const stored = (await inbox()).find((m) => m.id === older.id);
    expect(stored?.text).toContain("A reset of your MPay PIN was requested");
    expect(stored && "params" in stored).toBe(false);
  });

  it("sends a row claimed as it was written without claiming it again, and a claimed row never sent once its lease passes", async () => {
    const announceToSend = () =>
      pay.system.database.db.transaction((tx) =>
        pay.system.announcements.announceToSend(tx, payerId, {
          kind: "pin_reset_pending",
          resetId: resetId(),
          activatesAt: new Date("2026-03-02T14:05:00Z"),
        }),
      );
    const announced = await announceToSend();
    // Its first attempt is counted and leased by the insert: no other sender takes it meanwhile.
    const written = await row(announced.id);
    expect(written).toMatchObject({ status: "pending", attempts: 1 });
    expect(Number(written?.due_in_ms)).toBeGreaterThan(10_000);
    expect(await pay.system.announcements.deliver(announced.id)).toBe("not_due");
    pay.system.announcements.sendSoon(announced);
    await pay.system.announcements.settle();
    expect(await row(announced.id)).toMatchObject({ status: "delivered", attempts: 1, last_error: null });
    expect((await inbox()).filter((m) => m.id === announced.id)).toHaveLength(1);

    // The writer stopped before its send: once the lease has passed, the maintenance task sends it.
    const orphan = await announceToSend();
    expect(await pay.system.announcements.deliver(orphan.id)).toBe("not_due");
    await pay.system.database.db.execute(
      sql`update announcements set next_attempt_at = now() - interval '1 second' where id = ${orphan.id}`,
    );
    expect(await pay.system.announcements.deliver(orphan.id)).toBe("delivered");
    expect(await row(orphan.id)).toMatchObject({ status: "delivered", attempts: 2 });
    expect((await inbox()).filter((m) => m.id === orphan.id)).toHaveLength(1);
  });

  it("survives the messenger being down: retries back off, and it arrives once when the messenger is back", async () => {
    await messenger.stop();
    try {
      const announced = await announceReset();
      let attempted = performance.now();
      pay.system.announcements.sendSoon(announced);
      await pay.system.announcements.settle();
      const first = await row(announced.id);
      expect(first).toMatchObject({ status: "pending", attempts: 1, last_error: "unreachable" });
      // The wait is drawn from [base/2, base]; what has passed since the attempt is added back to what is left of it.
      expectWait(Number(first?.due_in_ms), performance.now() - attempted, RETRY.retryBaseMs);
      // Not due yet: the retry task leaves it alone.
      expect(await pay.system.announcements.deliverDue()).toBe(0);
      expect((await row(announced.id))?.attempts).toBe(1);

      await waitUntilDue(announced.id);
      attempted = performance.now();
      expect(await pay.system.announcements.deliverDue()).toBe(0);
      const second = await row(announced.id);
      expect(second).toMatchObject({ status: "pending", attempts: 2 });
      // The second wait is drawn from a ceiling twice the first's.
      expectWait(Number(second?.due_in_ms), performance.now() - attempted, 2 * RETRY.retryBaseMs);

      await messenger.start();
      await waitUntilDue(announced.id);
      expect(await pay.system.announcements.deliverDue()).toBe(1);
      expect(await row(announced.id)).toMatchObject({ status: "delivered", attempts: 3, last_error: null });
      expect((await inbox()).filter((m) => m.id === announced.id)).toHaveLength(1);
    } finally {
      await messenger.start().catch(() => {}); // already started unless an assertion failed while it was down
    }
  });

  it("drains a backlog batch after batch in one maintenance pass", async () => {
    const client = new MessengerInboxClient({
      baseUrl: messenger.url,
      clientId: "mpay-pay",
      clientSecret: async () => messenger.paySecret,
      timeoutMs: 2_000,
    });
    const announcements = new AnnouncementService(
      pay.system.database.db,
      pay.system.payers,
      client,
      { ...RETRY, batchSize: 2 },
      systemClock,
      pino({ level: "silent" }),
    );
    const backlog = [];
    for (let i = 0; i < 5; i++) backlog.push(await announceReset()); // committed, never handed to sendSoon
    expect(await announcements.deliverDue()).toBe(5);
    const ids = new Set((await inbox()).map((m) => m.id));
    for (const announced of backlog) expect(ids.has(announced.id)).toBe(true);
  });

  it("does not hold the caller while a hung messenger's attempt runs to its timeout, then keeps it pending", async () => {
    const sockets: Socket[] = [];
    const hung: Server = createServer((socket) => void sockets.push(socket)); // accepts, never answers
    await new Promise<void>((resolve) => hung.listen(0, "127.0.0.1", resolve));
    const address = hung.address();
    const port = typeof address === "object" && address ? address.port : 0;
    const timeoutMs = 3_000;
    try {
      // The system's own parts, with the messenger's address pointing at the hung server.
      const client = new MessengerInboxClient({
        baseUrl: `http://127.0.0.1:${port}`,
        clientId: "mpay-pay",
        clientSecret: async () => messenger.paySecret,
        timeoutMs,
      });
      const announcements = new AnnouncementService(
        pay.system.database.db,
        pay.system.payers,
        client,
        { ...RETRY, timeoutMs },
        systemClock,
        pino({ level: "silent" }),
      );
      const started = performance.now();
      const announced = await pay.system.database.db.transaction((tx) =>
        announcements.announce(tx, payerId, { kind: "pin_reset_applied", resetId: resetId() }),
      );
      announcements.sendSoon(announced);
      const callerDone = performance.now() - started;
      await announcements.settle();
      const attemptDone = performance.now() - started;
      expect(callerDone).toBeLessThan(timeoutMs / 2);
      expect(attemptDone).toBeGreaterThanOrEqual(timeoutMs - 50);
      expect(await row(announced.id)).toMatchObject({ status: "pending", attempts: 1, last_error: "timeout" });
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => hung.close(resolve));
    }
  });

  it("retries what the messenger may take later and gives up only what it never will", async () => {
    const message = {
      id: "ann_01JTESTCLIENT0000000000000",
      to: account.id,
      kind: "pin_reset_applied",
      text: "Your MPay PIN was reset.",
      createdAt: new Date().toISOString(),
    };
    const wrongSecret = new MessengerInboxClient({
      baseUrl: messenger.url,
      clientId: "mpay-pay",
      clientSecret: async () => "w".repeat(43),
      timeoutMs: 2_000,
    });
    expect(await wrongSecret.send(message)).toEqual({ outcome: "retry", error: "client_authentication_failed" });
    const noSecret = new MessengerInboxClient({
      baseUrl: messenger.url,
      clientId: "mpay-pay",
      clientSecret: () => Promise.reject(new Error("unset")),
      timeoutMs: 2_000,
    });
    expect(await noSecret.send(message)).toEqual({ outcome: "retry", error: "no_client_secret" });
    const plainHttp = new MessengerInboxClient({
      baseUrl: "http://messenger.example",
      clientId: "mpay-pay",
      clientSecret: async () => messenger.paySecret,
      timeoutMs: 2_000,
    });
    expect(await plainHttp.send(message)).toEqual({ outcome: "retry", error: "insecure_messenger_url" });
    const oldMessenger = new MessengerInboxClient({
      baseUrl: `${messenger.url}/api/v0`,
      clientId: "mpay-pay",
      clientSecret: async () => messenger.paySecret,
      timeoutMs: 2_000,
    });
    expect(await oldMessenger.send(message)).toEqual({ outcome: "retry", error: "route_not_found" });

    // A payer whose messenger account is gone: refused for good, not retried, nothing in anyone's inbox.
    const orphan = (
      await pay.system.payers.openSession({ subject: `acct_${"Q".repeat(26)}`, displayName: "Gone", phoneNumber: null })
    ).payer.id;
    const announced = await pay.system.database.db.transaction((tx) =>
      pay.system.announcements.announce(tx, orphan, { kind: "pin_reset_applied", resetId: resetId() }),
    );
    expect(await pay.system.announcements.deliver(announced.id)).toBe("failed");
    expect(await row(announced.id)).toMatchObject({ status: "failed", last_error: "account_not_found" });
    await pay.system.database.db.execute(
      sql`update announcements set next_attempt_at = now() - interval '1 second' where id = ${announced.id}`,
    );
    // (Other tests' announcements may fall due in the same pass; this one is not taken again.)
    await pay.system.announcements.deliverDue();
    expect(await row(announced.id)).toMatchObject({ status: "failed", attempts: 1 });
  });

  it("keeps the client secret out of the logs and the outbox", async () => {
    const log = pay.logLines.join("\n");
    expect(log).toContain("announcement delivered");
    expect(log).toContain("will retry");
    expect(log).not.toContain(messenger.paySecret);
    expect(log).not.toContain(Buffer.from(`mpay-pay:${messenger.paySecret}`).toString("base64"));
    const rows = JSON.stringify(await queryRows(pay.system.database.db, sql`select * from announcements`));
    expect(rows).not.toContain(messenger.paySecret);
    expect(messenger.logLines.join("\n")).not.toContain(messenger.paySecret);
  });
});
