/**
 * The "MPay" official account over real HTTP: its sender's authentication, validation, idempotency on the id, and
 * the recipient's own sessions reading, paging and marking read, never another account's messages.
 */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "@mpay/service-kit";
import type { OfficialMessage } from "@mpay/protocol";
import { PAY_CLIENT_ID } from "../config.ts";
import { testBackends } from "../testing/databases.ts";
import { openTestMessenger, SHOP_CLIENT_ID, type TestMessenger } from "../testing/messenger.ts";
import { createAccount, type TestAccount } from "../testing/rp.ts";

interface ErrorBody {
  error?: { type: string; code: string; message: string; param?: string };
}
type Page = { object: "list"; data: OfficialMessage[]; hasMore: boolean; unreadCount: number } & ErrorBody;

const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString("base64")}`;
let counter = 0;
const messageId = () =>
  `ann_TEST${String(++counter).padStart(6, "0")}${Math.random().toString(36).slice(2, 10).toUpperCase()}`;

describe.each(testBackends())("official account messages [%s]", (backend) => {
  let messenger: TestMessenger;
  let alice: TestAccount;
  let bob: TestAccount;
  let aliceToken: string;
  let bobToken: string;

  const message = (overrides: Record<string, unknown> = {}) => ({
    id: messageId(),
    to: alice.id,
    kind: "device_pending",
    text: 'A new device, "Pixel 9", was added to your MPay account.\nIf this wasn\'t you, cancel it.',
    actions: [{ label: "Not me — cancel", action: "mpay:cancel-pending-change/dev_01JTESTDEVICE0000000000000" }],
    createdAt: "2026-03-01T09:30:00.000Z",
    ...overrides,
  });
  /** `authorization` null sends no header. */
  const post = async (
    body: unknown,
    authorization: string | null = basic(PAY_CLIENT_ID, messenger.paySecret),
    account = "mpay",
  ) => {
    const response = await fetch(`${messenger.url}/api/official/${account}/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(authorization ? { authorization } : {}) },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
    return {
      status: response.status,
      headers: response.headers,
      body: (await response.json()) as OfficialMessage & ErrorBody,
    };
  };
  const get = async <T>(path: string, token: string, method = "GET") => {
    const response = await fetch(`${messenger.url}${path}`, { method, headers: { authorization: `Bearer ${token}` } });
    return { status: response.status, body: (await response.json()) as T };
  };
  const signIn = async (account: TestAccount) => {
    const response = await fetch(`${messenger.url}/api/sessions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ phoneNumber: account.phoneNumber, password: account.password }),
    });
    return ((await response.json()) as { sessionToken: string }).sessionToken;
  };
  const storedCount = async () => {
    const [row] = await queryRows<{ n: number }>(
      messenger.server.system.database.db,
      sql`select count(*)::int as n from official_messages`,
    );
    return Number(row?.n);
  };

  beforeAll(async () => {
    messenger = await openTestMessenger(backend);
    [alice, bob] = await Promise.all([createAccount(messenger.url, "Alice"), createAccount(messenger.url, "Bob")]);
    [aliceToken, bobToken] = await Promise.all([signIn(alice), signIn(bob)]);
  });
  afterAll(async () => {
    await messenger?.close();
  });

  it("accepts only the client that operates the account, with its secret", async () => {
    const none = await post(message(), null);
    expect([none.status, none.body.error?.code]).toEqual([401, "client_authentication_failed"]);
    expect(none.headers.get("www-authenticate")).toMatch(/^Basic /);
    for (const authorization of [
      basic(PAY_CLIENT_ID, "wrong-secret-wrong-secret-wrong-secret"),
      basic("nobody", messenger.paySecret),
      `Bearer ${messenger.paySecret}`,
      "Basic !!!",
    ]) {
      expect((await post(message(), authorization)).body.error?.code, authorization).toBe(
        "client_authentication_failed",
      );
    }
    // Another registered client, with its own right secret, may not speak as MPay.
    const shop = await post(message(), basic(SHOP_CLIENT_ID, messenger.shopSecret));
    expect([shop.status, shop.body.error?.code]).toEqual([403, "official_account_forbidden"]);
    const elsewhere = await post(message(), null, "bank");
    expect(elsewhere.status).toBe(401);
    const unknown = await post(message(), basic(PAY_CLIENT_ID, messenger.paySecret), "bank");
    expect([unknown.status, unknown.body.error?.code]).toEqual([404, "official_account_not_found"]);
    expect(await storedCount()).toBe(0);
  });

  it("refuses bad messages with stable codes and stores none of them", async () => {
    const cases: Array<[unknown, number, string, string | undefined]> = [
      [message({ text: undefined }), 400, "parameter_missing", "text"],
      [message({ id: "short" }), 400, "parameter_invalid", "id"],
      [message({ to: "+821012345678" }), 400, "parameter_invalid", "to"],
      [message({ kind: "Device Pending" }), 400, "parameter_invalid", "kind"],
      [message({ text: "" }), 400, "parameter_invalid", "text"],
      [message({ text: "x".repeat(1001) }), 400, "parameter_invalid", "text"],
      [message({ text: "Cancel \u202egnp.exe" }), 400, "parameter_invalid", "text"],
      [message({ createdAt: "yesterday" }), 400, "parameter_invalid", "createdAt"],
      [
        message({ actions: [{ label: "Open", action: "javascript:alert(1)" }] }),
        400,
        "parameter_invalid",
        "actions.0.action",
      ],
      [
        message({ actions: [{ label: "Open", action: "https://evil.example/login" }] }),
        400,
        "parameter_invalid",
        "actions.0.action",
      ],
      [
        message({ actions: [{ label: "Open", action: "mpay:x", extra: 1 }] }),
        400,
        "parameter_unknown",
        "actions.0.extra",
      ],
      [
        message({ actions: Array.from({ length: 4 }, () => ({ label: "Open", action: "mpay:open/devices" })) }),
        400,
        "parameter_invalid",
        "actions",
      ],
      [message({ urgent: true }), 400, "parameter_unknown", "urgent"],
      [message({ params: { deviceName: "Kim's\u202e phone" } }), 400, "parameter_invalid", "params.deviceName"],
      [message({ params: { "device name": "x" } }), 400, "parameter_invalid", "params.device name"],
      [message({ params: { deviceName: "x".repeat(201) } }), 400, "parameter_invalid", "params.deviceName"],
      [message({ params: { nested: { a: 1 } } }), 400, "parameter_invalid", "params.nested"],
      [
        message({ params: Object.fromEntries(Array.from({ length: 13 }, (_, i) => [`k${i}`, i])) }),
        400,
        "parameter_invalid",
        "params",
      ],
      [message({ to: `acct_${"Z".repeat(26)}` }), 404, "account_not_found", "to"],
      ["{not json", 400, "body_invalid_json", undefined],
    ];
    for (const [body, status, code, param] of cases) {
      const answer = await post(body);
      expect(
        { status: answer.status, code: answer.body.error?.code, param: answer.body.error?.param },
        JSON.stringify(body),
      ).toEqual({ status, code, param });
    }
    expect(await storedCount()).toBe(0);
  });

  it("stores a message once: a resend answers 200 with the same message, other contents under the id are refused", async () => {
    const sent = message();
    const first = await post(sent);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      id: sent.id,
      object: "message",
      from: { account: "mpay", name: "MPay" },
      kind: sent.kind,
      text: sent.text,
      actions: sent.actions,
      createdAt: sent.createdAt,
      readAt: null,
    });
    const again = await post(sent);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);

    const rewrite = await post({ ...sent, text: "Your account is locked: call +82 2 0000 0000" });
    expect([rewrite.status, rewrite.body.error?.code]).toEqual([409, "message_id_conflict"]);
    const toBob = await post({ ...sent, to: bob.id });
    expect(toBob.body.error?.code).toBe("message_id_conflict");

    // Concurrent first sends of one id: one row, one 201.
    const racing = message();
    const answers = await Promise.all(Array.from({ length: 6 }, () => post(racing)));
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 200, 200, 200, 200, 201]);
    const [row] = await queryRows<{ n: number }>(
      messenger.server.system.database.db,
      sql`select count(*)::int as n from official_messages where id = ${racing.id}`,
    );
    expect(Number(row?.n)).toBe(1);
    const list = await get<Page>("/api/messages", aliceToken);
    expect(list.body.data.filter((m) => m.id === sent.id)).toHaveLength(1);
    expect(list.body.data.find((m) => m.id === sent.id)?.text).toBe(sent.text);
    expect(list.body.data.find((m) => m.id === sent.id)).not.toHaveProperty("params");
  });

  it("keeps a message's params as sent and serves them; a resend may order them otherwise, other facts conflict", async () => {
    const params = { deviceName: "Pixel 9", activatesAt: "2026-03-03T14:05:00.000Z", count: 2 };
    const sent = message({ params });
    const first = await post(sent);
    expect(first.status).toBe(201);
    expect(first.body.params).toEqual(params);
    const reordered = await post({
      ...sent,
      params: { count: 2, activatesAt: "2026-03-03T14:05:00.000Z", deviceName: "Pixel 9" },
    });
    expect(reordered.status).toBe(200);
    const otherFacts = await post({ ...sent, params: { ...params, activatesAt: "2026-03-04T14:05:00.000Z" } });
    expect([otherFacts.status, otherFacts.body.error?.code]).toEqual([409, "message_id_conflict"]);
    const withoutFacts = await post({ ...sent, params: undefined });
    expect(withoutFacts.body.error?.code).toBe("message_id_conflict");
    const list = await get<Page>("/api/messages", aliceToken);
    expect(list.body.data.find((m) => m.id === sent.id)?.params).toEqual(params);
  });

  it("serves an account its own messages only, newest first, paged, with the unread count", async () => {
    const forBob = message({ to: bob.id, kind: "pin_reset_pending", text: "A reset of your MPay PIN was requested." });
    expect((await post(forBob)).status).toBe(201);
    const before = await get<Page>("/api/messages", aliceToken);
    const sentToAlice: string[] = [];
    for (let i = 0; i < 3; i++) {
      const m = message({ text: `Notice ${i}` });
      expect((await post(m)).status).toBe(201);
      sentToAlice.push(m.id);
    }
    const all = await get<Page>("/api/messages?limit=100", aliceToken);
    expect(all.body.data.map((m) => m.id).slice(0, 3)).toEqual([...sentToAlice].reverse());
    expect(all.body.data.map((m) => m.id)).not.toContain(forBob.id);
    expect(all.body.data.length).toBe(before.body.data.length + 3);
    expect(all.body.unreadCount).toBe(all.body.data.length);

    const bobs = await get<Page>("/api/messages", bobToken);
    expect(bobs.body.data.map((m) => m.id)).toEqual([forBob.id]);
    expect(bobs.body.unreadCount).toBe(1);

    const first = await get<Page>("/api/messages?limit=2", aliceToken);
    expect([first.body.data.map((m) => m.id), first.body.hasMore]).toEqual([[sentToAlice[2], sentToAlice[1]], true]);
    const rest = await get<Page>(`/api/messages?limit=100&startingAfter=${sentToAlice[1]}`, aliceToken);
    expect(rest.body.data.map((m) => m.id)).toEqual(all.body.data.slice(2).map((m) => m.id));
    expect(rest.body.hasMore).toBe(false);

    // Another account's message does not exist for Alice, whether she reads, marks or pages from it.
    expect((await get<ErrorBody>(`/api/messages/${forBob.id}/read`, aliceToken, "POST")).body.error?.code).toBe(
      "message_not_found",
    );
    const paged = await get<ErrorBody>(`/api/messages?startingAfter=${forBob.id}`, aliceToken);
    expect([paged.status, paged.body.error?.code, paged.body.error?.param]).toEqual([
      400,
      "parameter_invalid",
      "startingAfter",
    ]);
    expect((await get<Page>("/api/messages", bobToken)).body.data[0]?.readAt).toBeNull();

    for (const [query, code] of [
      ["limit=0", "parameter_invalid"],
      ["limit=101", "parameter_invalid"],
      ["limit=ten", "parameter_invalid"],
      ["order=asc", "parameter_unknown"],
    ] as const) {
      const answer = await get<ErrorBody>(`/api/messages?${query}`, aliceToken);
      expect([answer.status, answer.body.error?.code], query).toEqual([400, code]);
    }
  });

  it("marks a message read once and counts what is left unread", async () => {
    const m = message({ text: "Read me" });
    await post(m);
    const unreadBefore = (await get<Page>("/api/messages", aliceToken)).body.unreadCount;
    const read = await get<OfficialMessage>(`/api/messages/${m.id}/read`, aliceToken, "POST");
    expect(read.status).toBe(200);
    expect(read.body.readAt).not.toBeNull();
    const again = await get<OfficialMessage>(`/api/messages/${m.id}/read`, aliceToken, "POST");
    expect(again.body.readAt).toBe(read.body.readAt);
    const after = await get<Page>("/api/messages?limit=100", aliceToken);
    expect(after.body.unreadCount).toBe(unreadBefore - 1);
    expect(after.body.data.find((x) => x.id === m.id)?.readAt).toBe(read.body.readAt);
    // A resend of a message already read does not make it unread again.
    expect((await post(m)).body.readAt).toBe(read.body.readAt);
  });

  it("logs no client secret, session token or Basic credentials", () => {
    const log = messenger.logLines.join("\n");
    expect(log).toContain("official_message_received");
    for (const secret of [
      messenger.paySecret,
      messenger.shopSecret,
      aliceToken,
      bobToken,
      basic(PAY_CLIENT_ID, messenger.paySecret).slice(6),
      alice.password,
    ]) {
      expect(log).not.toContain(secret);
    }
  });
});
