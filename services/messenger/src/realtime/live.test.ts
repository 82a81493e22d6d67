/**
 * The live connection over real sockets: hello authentication (4401 for anything else), replay after `afterSeq`
 * for a client that was away, live delivery after the store, official messages pushed, pings, and a session
 * signed out elsewhere ending the stream.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WS_CLOSE_UNAUTHORIZED, type Chat, type ChatMessage } from "@mpay/protocol";
import { PAY_CLIENT_ID } from "../config.ts";
import { testBackends } from "../testing/databases.ts";
import { openTestMessenger, type TestMessenger } from "../testing/messenger.ts";
import { createAccount, type TestAccount } from "../testing/rp.ts";
import { callApi, signIn } from "../testing/app-client.ts";
import { LiveClient } from "../testing/live-client.ts";

const HELLO_TIMEOUT_MS = 400;
const PING_INTERVAL_MS = 300;

describe.each(testBackends())("live connection /api/ws [%s]", (backend) => {
  let messenger: TestMessenger;
  let alice: TestAccount;
  let bob: TestAccount;
  let mallory: TestAccount;
  const tokens = new Map<string, string>();
  let chat: Chat;
  let ids = 0;
  const clients: LiveClient[] = [];

  const api = <T>(who: TestAccount, method: string, path: string, body?: unknown) =>
    callApi<T>(messenger.url, method, path, { token: tokens.get(who.id), body });
  const send = async (who: TestAccount, chatId: string, text: string): Promise<ChatMessage> => {
    const answer = await api<ChatMessage>(who, "POST", `/api/chats/${chatId}/messages`, {
      clientMessageId: `live-${++ids}-${Date.now()}`,
      text,
    });
    expect(answer.status).toBe(201);
    return answer.body;
  };
  const open = async (who: TestAccount, afterSeq = 0) => {
    const client = await LiveClient.open(messenger.url, tokens.get(who.id)!, afterSeq);
    clients.push(client);
    return client;
  };
  const connect = async (path?: string) => {
    const client = await LiveClient.connect(messenger.url, path);
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    messenger = await openTestMessenger(backend, {
      overrides: {
        signupRateLimitPerMinute: 1000,
        realtime: { helloTimeoutMs: HELLO_TIMEOUT_MS, pingIntervalMs: PING_INTERVAL_MS },
      },
    });
    [alice, bob, mallory] = await Promise.all([
      createAccount(messenger.url, "Alice"),
      createAccount(messenger.url, "Bob"),
      createAccount(messenger.url, "Mallory"),
    ]);
    for (const account of [alice, bob, mallory]) tokens.set(account.id, await signIn(messenger.url, account));
    await api(alice, "POST", "/api/friends", { phoneNumber: bob.phoneNumber });
    chat = (await api<Chat>(alice, "POST", "/api/chats", { memberIds: [bob.id] })).body;
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await messenger?.close();
  });

  it("replays what a disconnected member missed when it comes back with afterSeq, then delivers live", async () => {
    const first = await send(alice, chat.id, "before Bob's first connection");
    const bobOnline = await open(bob);
    expect(bobOnline.frames[0]).toEqual({ type: "ready", seq: first.seq });
    await bobOnline.until(() => bobOnline.chatMessages().length === 1);
    expect(bobOnline.chatMessages()).toEqual([[first.seq, "before Bob's first connection"]]);
    const lastSeen = first.seq;
    await bobOnline.close();

    // Bob is away; Alice writes three times.
    const missed = [
      await send(alice, chat.id, "one"),
      await send(alice, chat.id, "two"),
      await send(alice, chat.id, "three"),
    ];

    const bobBack = await open(bob, lastSeen);
    expect(bobBack.frames[0]).toEqual({ type: "ready", seq: missed[2]!.seq });
    await bobBack.until(() => bobBack.chatMessages().length === 3);
    expect(bobBack.chatMessages()).toEqual(missed.map((message) => [message.seq, message.text]));
    const replayed = bobBack.frames[1];
    expect(replayed).toEqual({ type: "chat_message", message: missed[0] });

    // Live: stored, then pushed, to every member's connection (the sender's other devices included).
    const aliceOnline = await open(alice, missed[2]!.seq);
    const live = await send(alice, chat.id, "live one");
    await bobBack.until(() => bobBack.chatMessages().length === 4);
    await aliceOnline.until(() => aliceOnline.chatMessages().length === 1);
    expect(bobBack.chatMessages()[3]).toEqual([live.seq, "live one"]);
    expect(aliceOnline.chatMessages()).toEqual([[live.seq, "live one"]]);
  });

  it("delivers simultaneous sends live in seq order, none missing, also to a client whose afterSeq is too high", async () => {
    // A made-up afterSeq beyond anything stored must not hide the messages that come next.
    const bobOnline = await open(bob, Number.MAX_SAFE_INTEGER);
    const sent = await Promise.all(Array.from({ length: 10 }, (_, i) => send(alice, chat.id, `burst ${i}`)));
    await bobOnline.until(() => bobOnline.chatMessages().length === 10);
    const seqs = sent.map((message) => message.seq).sort((a, b) => a - b);
    expect(bobOnline.chatMessages().map(([seq]) => seq)).toEqual(seqs);
  });

  it("sends nothing of a chat to a connection of an account outside it", async () => {
    const malloryOnline = await open(mallory);
    await send(alice, chat.id, "not for Mallory");
    // Mallory's own official message arrives; nothing from Alice and Bob's chat came before it.
    await postOfficial(mallory.id, "Only for Mallory");
    await malloryOnline.until((frames) => frames.some((frame) => frame.type === "official_message"));
    expect(malloryOnline.frames.map((frame) => frame.type)).toEqual(["ready", "official_message"]);
  });

  it("pushes a new official message live, once", async () => {
    const bobOnline = await open(bob, Number.MAX_SAFE_INTEGER);
    const id = await postOfficial(bob.id, "A new device was added to your MPay account.");
    await bobOnline.until((frames) => frames.some((frame) => frame.type === "official_message"));
    const pushed = bobOnline.frames.find((frame) => frame.type === "official_message");
    expect(pushed).toMatchObject({
      type: "official_message",
      message: {
        id,
        object: "message",
        from: { account: "mpay", name: "MPay" },
        text: expect.stringContaining("device"),
      },
    });
    // A resend stores nothing new, so it pushes nothing.
    await postOfficial(bob.id, "A new device was added to your MPay account.", id);
    await postOfficial(bob.id, "Second notice");
    await bobOnline.until((frames) => frames.filter((frame) => frame.type === "official_message").length === 2);
    const texts = bobOnline.frames.flatMap((frame) => (frame.type === "official_message" ? [frame.message.text] : []));
    expect(texts).toEqual(["A new device was added to your MPay account.", "Second notice"]);
  });

  it("closes 4401 for a bad hello, a wrong token, a token in the URL, and no hello in time", async () => {
    const token = tokens.get(alice.id)!;
    const hellos: unknown[] = [
      "not json",
      { type: "hello", sessionToken: `mss_${"A".repeat(43)}`, afterSeq: 0 },
      { type: "hello", sessionToken: token },
      { type: "hello", sessionToken: token, afterSeq: -1 },
      { type: "hello", sessionToken: token, afterSeq: 0, extra: true },
      { type: "subscribe", sessionToken: token, afterSeq: 0 },
      [1, 2, 3],
    ];
    for (const hello of hellos) {
      const client = await connect();
      client.send(hello);
      const closed = await client.closed;
      expect(closed.code, JSON.stringify(hello)).toBe(WS_CLOSE_UNAUTHORIZED);
      expect(client.frames).toEqual([]);
    }
    const started = Date.now();
    const silent = await connect(`/api/ws?sessionToken=${token}&afterSeq=0`);
    expect((await silent.closed).code).toBe(WS_CLOSE_UNAUTHORIZED);
    expect(Date.now() - started).toBeGreaterThanOrEqual(HELLO_TIMEOUT_MS - 50);
    expect(silent.frames).toEqual([]);
    // A plain request to the route is no upgrade: 404.
    expect((await fetch(`${messenger.url}/api/ws`)).status).toBe(404);
  });

  it("pings, and ends the stream with 4401 once the session is signed out", async () => {
    const token = await signIn(messenger.url, bob);
    const client = await LiveClient.open(messenger.url, token, Number.MAX_SAFE_INTEGER);
    clients.push(client);
    await client.until(() => client.pings >= 2);
    expect(messenger.server.system.live.connections(bob.id)).toBeGreaterThan(0);
    const out = await callApi(messenger.url, "DELETE", "/api/sessions/current", { token });
    expect(out.status).toBe(204);
    expect((await client.closed).code).toBe(WS_CLOSE_UNAUTHORIZED);
  });

  it("drops a client that stops answering pings", async () => {
    const silent = await LiveClient.open(messenger.url, tokens.get(mallory.id)!, 0, { autoPong: false });
    clients.push(silent);
    const closed = await silent.closed;
    expect(closed.code).toBe(1006); // terminated, no close frame: the peer is presumed gone
    expect(silent.pings).toBeGreaterThanOrEqual(2);
  });

  it("logs no session token and no message text", () => {
    const log = messenger.logLines.join("\n");
    expect(log).toContain("live_connected");
    for (const token of tokens.values()) expect(log).not.toContain(token);
    expect(log).not.toContain("before Bob's first connection");
  });

  async function postOfficial(to: string, text: string, id = `ann_LIVE${Date.now()}${++ids}`): Promise<string> {
    const basic = Buffer.from(`${PAY_CLIENT_ID}:${messenger.paySecret}`).toString("base64");
    const response = await fetch(`${messenger.url}/api/official/mpay/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Basic ${basic}` },
      body: JSON.stringify({ id, to, kind: "device_pending", text, createdAt: "2026-12-03T10:00:00.000Z" }),
    });
    expect([200, 201]).toContain(response.status);
    return id;
  }
});
