/** The messenger app's pure rules: where buttons lead, how rooms merge messages, how the socket backs off. */
import { describe, expect, it } from "vitest";
import { payPathOf, walletPathOf } from "./actions.ts";
import { backoffDelay, socketUrl } from "./realtime.ts";
import { mergeMessages, type RoomMessage } from "./store.ts";

describe("official message buttons", () => {
  it("open the wallet's screen each mpay: action names, and the pending changes for any other", () => {
    expect(walletPathOf("mpay:pay/pay_123abc")).toBe("/wallet/pay/pay_123abc");
    expect(walletPathOf("mpay:receipt/pay_123abc")).toBe("/wallet/history");
    expect(walletPathOf("mpay:remove-card/card_9")).toBe("/wallet/cards");
    expect(walletPathOf("mpay:open/devices")).toBe("/wallet/devices");
    expect(walletPathOf("mpay:cancel-pending-change/dev_9")).toBe("/wallet/pending");
    expect(walletPathOf("mpay:something-new")).toBe("/wallet/pending");
  });

  it("never follow another scheme or a payment id that could leave the wallet's paths", () => {
    expect(walletPathOf("https://evil.example/pay")).toBeNull();
    expect(walletPathOf("javascript:alert(1)")).toBeNull();
    expect(walletPathOf("mpay:pay/../../signin")).toBeNull();
    expect(walletPathOf("mpay:pay/a?b")).toBeNull();
    expect(payPathOf("pay_ok")).toBe("/wallet/pay/pay_ok");
    expect(payPathOf("pay%2F..")).toBeNull();
    expect(payPathOf("")).toBeNull();
  });
});

const me = { id: "acct_ME", displayName: "Me" };
const other = { id: "acct_OTHER", displayName: "Bo" };
const sent = (seq: number, sender = other, clientMessageId = `c${seq}xxxxxxx`): RoomMessage => ({
  key: `cmsg_${seq}`,
  chatId: "chat_1",
  seq,
  sender,
  text: `m${seq}`,
  clientMessageId,
  createdAt: "2026-12-03T00:00:00.000Z",
  state: "sent",
});
const pending = (clientMessageId: string): RoomMessage => ({
  key: `local:${clientMessageId}`,
  chatId: "chat_1",
  seq: null,
  sender: me,
  text: "hello",
  clientMessageId,
  createdAt: "2026-12-03T00:00:00.000Z",
  state: "pending",
});

describe("room messages", () => {
  it("keep seq order with messages still on their way last, and each stored message once", () => {
    const list = mergeMessages([sent(5), pending("local-1-abc")], [sent(3), sent(7), sent(5)], me.id);
    expect(list.map((m) => m.key)).toEqual(["cmsg_3", "cmsg_5", "cmsg_7", "local:local-1-abc"]);
  });

  it("replace our pending copy by the stored message with its clientMessageId (answer or socket, whichever first)", () => {
    const waiting = [sent(1), pending("retry-me-123")];
    const stored = { ...sent(2, me, "retry-me-123"), text: "hello" };
    const once = mergeMessages(waiting, [stored], me.id);
    const twice = mergeMessages(once, [stored], me.id);
    expect(twice.map((m) => [m.key, m.state])).toEqual([
      ["cmsg_1", "sent"],
      ["cmsg_2", "sent"],
    ]);
  });

  it("do not let someone else's message with the same clientMessageId remove our pending one", () => {
    const list = mergeMessages([pending("same-id-000")], [sent(4, other, "same-id-000")], me.id);
    expect(list.map((m) => m.key)).toEqual(["cmsg_4", "local:same-id-000"]);
  });
});

describe("the WebSocket", () => {
  it("backs off from half a second, doubling, to at most 15 s (±25 % jitter)", () => {
    const middle = () => 0.5;
    expect([0, 1, 2, 3, 10, 40].map((attempt) => backoffDelay(attempt, middle))).toEqual([
      500, 1000, 2000, 4000, 15000, 15000,
    ]);
    expect(backoffDelay(0, () => 0)).toBe(375);
    expect(backoffDelay(40, () => 1)).toBe(18750);
  });

  it("connects to the configured endpoint, adding /api/ws only to a bare origin", () => {
    expect(socketUrl("ws://127.0.0.1:4200/api/ws")).toBe("ws://127.0.0.1:4200/api/ws");
    expect(socketUrl("wss://m.example")).toBe("wss://m.example/api/ws");
  });
});
