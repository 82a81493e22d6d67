/**
 * Chats over real HTTP: who may open which chat, membership as the only way in, history paging, idempotent
 * sending, the send limit, read marks and unread counts.
 */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "@mpay/service-kit";
import type { Chat, ChatList, ChatMessage, ChatMessageList, ChatRead } from "@mpay/protocol";
import { testBackends } from "../testing/databases.ts";
import { openTestMessenger, type TestMessenger } from "../testing/messenger.ts";
import { createAccount, type TestAccount } from "../testing/rp.ts";
import { callApi, signIn } from "../testing/app-client.ts";

const SENDS_PER_WINDOW = 40;

describe.each(testBackends())("chats [%s]", (backend) => {
  let messenger: TestMessenger;
  let alice: TestAccount;
  let bob: TestAccount;
  let carol: TestAccount;
  let mallory: TestAccount;
  const tokens = new Map<string, string>();
  let direct: Chat;
  let clientIds = 0;

  const api = <T>(who: TestAccount, method: string, path: string, body?: unknown) =>
    callApi<T>(messenger.url, method, path, { token: tokens.get(who.id), body });
  const clientMessageId = () => `client-${++clientIds}-${Math.random().toString(36).slice(2, 10)}`;
  const send = (who: TestAccount, chatId: string, text: string, id = clientMessageId()) =>
    api<ChatMessage>(who, "POST", `/api/chats/${chatId}/messages`, { clientMessageId: id, text });
  const befriend = async (who: TestAccount, friend: TestAccount) => {
    const answer = await api(who, "POST", "/api/friends", { phoneNumber: friend.phoneNumber });
    expect([200, 201]).toContain(answer.status);
  };
  const count = async (table: string) => {
    const [row] = await queryRows<{ n: number }>(
      messenger.server.system.database.db,
      sql`select count(*)::int as n from ${sql.identifier(table)}`,
    );
    return Number(row?.n);
  };

  beforeAll(async () => {
    messenger = await openTestMessenger(backend, {
      overrides: {
        signupRateLimitPerMinute: 1000,
        chatLimits: {
          messagesPerWindow: SENDS_PER_WINDOW,
          messageWindowSeconds: 3600,
          friendAddsPerWindow: 100,
          friendAddWindowSeconds: 3600,
        },
      },
    });
    [alice, bob, carol, mallory] = await Promise.all([
      createAccount(messenger.url, "Alice"),
      createAccount(messenger.url, "Bob"),
      createAccount(messenger.url, "Carol"),
      createAccount(messenger.url, "Mallory"),
    ]);
    for (const account of [alice, bob, carol, mallory]) tokens.set(account.id, await signIn(messenger.url, account));
    await befriend(alice, bob);
    await befriend(alice, carol);
  });
  afterAll(async () => {
    await messenger?.close();
  });

  it("opens one direct chat per pair: 201 new, then 200 with the same chat, also when opened at once", async () => {
    const first = await api<Chat>(alice, "POST", "/api/chats", { memberIds: [bob.id] });
    expect(first.status).toBe(201);
    direct = first.body;
    expect(direct).toMatchObject({
      object: "chat",
      kind: "direct",
      title: null,
      lastMessage: null,
      unreadCount: 0,
      lastReadSeq: 0,
    });
    expect(direct.id).toMatch(/^chat_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(direct.members).toEqual([
      { id: alice.id, displayName: "Alice" },
      { id: bob.id, displayName: "Bob" },
    ]);
    const again = await api<Chat>(alice, "POST", "/api/chats", { memberIds: [bob.id, bob.id] });
    expect([again.status, again.body.id]).toEqual([200, direct.id]);

    // Alice and Carol open theirs five times at once: one chat.
    const racing = await Promise.all(
      Array.from({ length: 5 }, () => api<Chat>(alice, "POST", "/api/chats", { memberIds: [carol.id] })),
    );
    expect(new Set(racing.map((answer) => answer.body.id)).size).toBe(1);
    expect(racing.map((answer) => answer.status).sort()).toEqual([200, 200, 200, 200, 201]);
  });

  it("makes a new group chat of two or more friends, with a title", async () => {
    const group = await api<Chat>(alice, "POST", "/api/chats", { memberIds: [bob.id, carol.id], title: "  Trip  " });
    expect(group.status).toBe(201);
    expect(group.body).toMatchObject({ kind: "group", title: "Trip" });
    expect(group.body.members.map((member) => member.id)).toEqual([alice.id, bob.id, carol.id]);
    const another = await api<Chat>(alice, "POST", "/api/chats", { memberIds: [bob.id, carol.id] });
    expect(another.status).toBe(201);
    expect(another.body.id).not.toBe(group.body.id);
    expect(another.body.title).toBeNull();
  });

  it("refuses members who are not the creator's friends, yourself and bad input, and makes no chat", async () => {
    const chatsBefore = await count("chats");
    const cases: Array<[TestAccount, unknown, number, string, string | undefined]> = [
      // Bob never added Alice: a friendship is the creator's.
      [bob, { memberIds: [alice.id] }, 403, "not_a_friend", "memberIds"],
      [alice, { memberIds: [bob.id, mallory.id] }, 403, "not_a_friend", "memberIds"],
      [alice, { memberIds: [`acct_${"Z".repeat(26)}`] }, 403, "not_a_friend", "memberIds"],
      [alice, { memberIds: [alice.id] }, 400, "parameter_invalid", "memberIds"],
      [alice, { memberIds: [] }, 400, "parameter_invalid", "memberIds"],
      [alice, { memberIds: ["bob"] }, 400, "parameter_invalid", "memberIds.0"],
      [alice, { memberIds: [bob.id], title: "Us" }, 400, "parameter_invalid", "title"],
      [alice, { memberIds: [bob.id, carol.id], title: "a\u202eb" }, 400, "parameter_invalid", "title"],
      [alice, { memberIds: [bob.id, carol.id], title: "x".repeat(101) }, 400, "parameter_invalid", "title"],
      [alice, { title: "Trip" }, 400, "parameter_missing", "memberIds"],
      [alice, { memberIds: [bob.id], kind: "direct" }, 400, "parameter_unknown", "kind"],
    ];
    for (const [who, body, status, code, param] of cases) {
      const answer = await api(who, "POST", "/api/chats", body);
      expect([answer.status, answer.body.error?.code, answer.body.error?.param], JSON.stringify(body)).toEqual([
        status,
        code,
        param,
      ]);
    }
    expect(await count("chats")).toBe(chatsBefore);
  });

  it("treats a chat the account is not in as one that does not exist", async () => {
    const sent = await send(alice, direct.id, "Just between us");
    expect(sent.status).toBe(201);
    const unknown = `chat_${"0".repeat(26)}`;
    for (const id of [direct.id, unknown, "not-a-chat"]) {
      const history = await api(mallory, "GET", `/api/chats/${id}/messages`);
      const post = await send(mallory, id, "hello?");
      const read = await api(mallory, "POST", `/api/chats/${id}/read`, { seq: 1 });
      for (const answer of [history, post, read]) {
        expect([answer.status, answer.body.error?.code], id).toEqual([404, "chat_not_found"]);
      }
    }
    expect((await api<ChatList>(mallory, "GET", "/api/chats")).body.data).toEqual([]);
    const bobsHistory = await api<ChatMessageList>(bob, "GET", `/api/chats/${direct.id}/messages`);
    expect(bobsHistory.body.data.map((message) => message.text)).toContain("Just between us");
  });

  it("sends idempotently on (sender, clientMessageId): a resend answers the stored message, another text is 409", async () => {
    const id = clientMessageId();
    const first = await send(bob, direct.id, "On my way", id);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      object: "chat_message",
      chatId: direct.id,
      sender: { id: bob.id, displayName: "Bob" },
      text: "On my way",
      clientMessageId: id,
    });
    expect(first.body.id).toMatch(/^cmsg_/);
    const resent = await send(bob, direct.id, "On my way", id);
    expect([resent.status, resent.body]).toEqual([200, first.body]);
    const racing = await Promise.all(Array.from({ length: 5 }, () => send(bob, direct.id, "Racing", "race-same-id-1")));
    expect(racing.map((answer) => answer.status).sort()).toEqual([200, 200, 200, 200, 201]);
    expect(new Set(racing.map((answer) => answer.body.seq)).size).toBe(1);

    const before = await count("chat_messages");
    const otherText = await send(bob, direct.id, "Changed my mind", id);
    expect([otherText.status, otherText.body.error?.code, otherText.body.error?.param]).toEqual([
      409,
      "client_message_id_conflict",
      "clientMessageId",
    ]);
    // The same id is the sender's own: Alice may use it too.
    expect((await send(alice, direct.id, "On my way", id)).status).toBe(201);
    expect(await count("chat_messages")).toBe(before + 1);
  });

  it("refuses empty, long and control-character text, and bad ids, storing nothing", async () => {
    const before = await count("chat_messages");
    const cases: Array<[unknown, string, string]> = [
      [{ clientMessageId: clientMessageId(), text: "" }, "parameter_invalid", "text"],
      [{ clientMessageId: clientMessageId(), text: "   \n " }, "parameter_invalid", "text"],
      [{ clientMessageId: clientMessageId(), text: "x".repeat(2001) }, "parameter_invalid", "text"],
      [{ clientMessageId: clientMessageId(), text: "bell\u0007" }, "parameter_invalid", "text"],
      [{ clientMessageId: clientMessageId(), text: "evil\u202etxt.exe" }, "parameter_invalid", "text"],
      [{ clientMessageId: "short", text: "hi" }, "parameter_invalid", "clientMessageId"],
      [{ clientMessageId: "has spaces in it", text: "hi" }, "parameter_invalid", "clientMessageId"],
      [{ text: "hi" }, "parameter_missing", "clientMessageId"],
      [{ clientMessageId: clientMessageId(), text: "hi", to: bob.id }, "parameter_unknown", "to"],
    ];
    for (const [body, code, param] of cases) {
      const answer = await api(alice, "POST", `/api/chats/${direct.id}/messages`, body);
      expect([answer.status, answer.body.error?.code, answer.body.error?.param], JSON.stringify(body)).toEqual([
        400,
        code,
        param,
      ]);
    }
    expect(await count("chat_messages")).toBe(before);
    // Line breaks and 2000 characters are fine.
    expect((await send(alice, direct.id, "two\nlines")).status).toBe(201);
    expect((await send(alice, direct.id, "y".repeat(2000))).status).toBe(201);
  });

  it("pages history oldest first, backwards with beforeSeq and forwards with afterSeq", async () => {
    const group = (await api<Chat>(alice, "POST", "/api/chats", { memberIds: [bob.id, carol.id], title: "Paging" }))
      .body;
    const seqs: number[] = [];
    for (let i = 1; i <= 7; i++) seqs.push((await send(i % 2 ? alice : bob, group.id, `m${i}`)).body.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));

    const newest = await api<ChatMessageList>(carol, "GET", `/api/chats/${group.id}/messages?limit=3`);
    expect([newest.body.data.map((m) => m.text), newest.body.hasMore]).toEqual([["m5", "m6", "m7"], true]);
    const older = await api<ChatMessageList>(
      carol,
      "GET",
      `/api/chats/${group.id}/messages?limit=3&beforeSeq=${seqs[4]}`,
    );
    expect([older.body.data.map((m) => m.text), older.body.hasMore]).toEqual([["m2", "m3", "m4"], true]);
    const oldest = await api<ChatMessageList>(
      carol,
      "GET",
      `/api/chats/${group.id}/messages?limit=3&beforeSeq=${seqs[1]}`,
    );
    expect([oldest.body.data.map((m) => m.text), oldest.body.hasMore]).toEqual([["m1"], false]);
    const after = await api<ChatMessageList>(
      carol,
      "GET",
      `/api/chats/${group.id}/messages?limit=4&afterSeq=${seqs[1]}`,
    );
    expect([after.body.data.map((m) => m.text), after.body.hasMore]).toEqual([["m3", "m4", "m5", "m6"], true]);
    const tail = await api<ChatMessageList>(carol, "GET", `/api/chats/${group.id}/messages?afterSeq=${seqs[5]}`);
    expect([tail.body.data.map((m) => m.text), tail.body.hasMore]).toEqual([["m7"], false]);

    for (const [query, code, param] of [
      ["beforeSeq=5&afterSeq=2", "parameter_invalid", "afterSeq"],
      ["limit=0", "parameter_invalid", "limit"],
      ["limit=101", "parameter_invalid", "limit"],
      ["beforeSeq=-1", "parameter_invalid", "beforeSeq"],
      ["afterSeq=ten", "parameter_invalid", "afterSeq"],
      ["order=asc", "parameter_unknown", "order"],
    ] as const) {
      const answer = await api(carol, "GET", `/api/chats/${group.id}/messages?${query}`);
      expect([answer.status, answer.body.error?.code, answer.body.error?.param], query).toEqual([400, code, param]);
    }
  });

  it("counts unread messages from the others per chat, and moves the read mark only forward", async () => {
    const group = (await api<Chat>(alice, "POST", "/api/chats", { memberIds: [bob.id, carol.id], title: "Unread" }))
      .body;
    const first = (await send(alice, group.id, "one")).body;
    await send(alice, group.id, "two");
    const third = (await send(bob, group.id, "three")).body;
    const unreadOf = async (who: TestAccount) =>
      (await api<ChatList>(who, "GET", "/api/chats")).body.data.find((chat) => chat.id === group.id);

    expect((await unreadOf(carol))?.unreadCount).toBe(3);
    expect((await unreadOf(alice))?.unreadCount).toBe(1); // her own two do not count
    expect((await unreadOf(bob))?.unreadCount).toBe(2);
    expect((await unreadOf(carol))?.lastMessage).toMatchObject({ id: third.id, text: "three" });

    const read = await api<ChatRead>(carol, "POST", `/api/chats/${group.id}/read`, { seq: first.seq });
    expect(read.body).toEqual({ object: "chat_read", chatId: group.id, lastReadSeq: first.seq, unreadCount: 2 });
    const back = await api<ChatRead>(carol, "POST", `/api/chats/${group.id}/read`, { seq: 0 });
    expect([back.body.lastReadSeq, back.body.unreadCount]).toEqual([first.seq, 2]);
    // A seq beyond the chat's newest marks everything read, but not messages that come later.
    const all = await api<ChatRead>(carol, "POST", `/api/chats/${group.id}/read`, { seq: Number.MAX_SAFE_INTEGER });
    expect([all.body.lastReadSeq, all.body.unreadCount]).toEqual([third.seq, 0]);
    await send(bob, group.id, "four");
    expect((await unreadOf(carol))?.unreadCount).toBe(1);
    // Bob's and Alice's marks are their own.
    expect((await unreadOf(bob))?.unreadCount).toBe(2);

    for (const body of [{}, { seq: -1 }, { seq: "3" }, { seq: 1.5 }]) {
      const answer = await api(carol, "POST", `/api/chats/${group.id}/read`, body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
    }
  });

  it("lists the account's chats by last activity", async () => {
    const list = await api<ChatList>(alice, "GET", "/api/chats");
    expect(list.status).toBe(200);
    const activity = list.body.data.map((chat) => Date.parse(chat.lastActivityAt));
    expect(activity).toEqual([...activity].sort((a, b) => b - a));
    await send(bob, direct.id, "bump");
    const bumped = await api<ChatList>(alice, "GET", "/api/chats");
    expect(bumped.body.data[0]?.id).toBe(direct.id);
    expect(bumped.body.data[0]?.lastMessage?.text).toBe("bump");
  });

  it("limits sending per account, claimed before the message is stored; a resend costs nothing", async () => {
    const dave = await createAccount(messenger.url, "Dave");
    tokens.set(dave.id, await signIn(messenger.url, dave));
    await befriend(dave, alice);
    const chat = (await api<Chat>(dave, "POST", "/api/chats", { memberIds: [alice.id] })).body;
    const answers = await Promise.all(
      Array.from({ length: SENDS_PER_WINDOW + 6 }, (_, i) => send(dave, chat.id, `burst ${i}`)),
    );
    const limited = answers.filter((answer) => answer.status === 429);
    expect(limited).toHaveLength(6);
    expect(limited[0]?.body.error?.code).toBe("rate_limited");
    expect(limited[0]?.headers.get("retry-after")).toBe("3600");
    const history = await api<ChatMessageList>(dave, "GET", `/api/chats/${chat.id}/messages?limit=100`);
    expect(history.body.data).toHaveLength(SENDS_PER_WINDOW);
    const stored = answers.find((answer) => answer.status === 201)!.body;
    expect((await send(dave, chat.id, stored.text, stored.clientMessageId)).status).toBe(200);
  });

  it("logs no message text and no session token", () => {
    const log = messenger.logLines.join("\n");
    expect(log).toContain("chat_message_sent");
    expect(log).not.toContain("Just between us");
    for (const token of tokens.values()) expect(log).not.toContain(token);
  });
});
