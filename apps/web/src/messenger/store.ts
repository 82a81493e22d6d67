/**
 * What the signed-in tab knows: the chat list, the MPay official chat, each opened room's messages (including the
 * ones still on their way) and the WebSocket's state. One small external store (React reads it with
 * useSyncExternalStore); every change makes a new state object so components re-render only on change.
 */
import { useSyncExternalStore } from "react";
import type { Chat, ChatMessage, OfficialMessage } from "./api.ts";
import type { ConnectionState } from "./realtime.ts";

/** A message in a room: stored (`sent`, with its seq) or still ours to deliver. */
export interface RoomMessage {
  /** The server id once stored, else `local:<clientMessageId>`. */
  key: string;
  chatId: string;
  seq: number | null;
  sender: { id: string; displayName: string };
  text: string;
  clientMessageId: string;
  createdAt: string;
  /** `failed`: no answer (retried on reconnect, or by the reader); `rejected`: refused, retrying cannot help. */
  state: "pending" | "sent" | "failed" | "rejected";
}

export interface Room {
  messages: RoomMessage[];
  loaded: boolean;
  /** False once a history page came back shorter than asked: nothing older exists. */
  hasOlder: boolean;
}

export interface MessengerState {
  chats: Chat[] | null;
  official: { messages: OfficialMessage[]; unreadCount: number } | null;
  rooms: Readonly<Record<string, Room>>;
  connection: ConnectionState;
  /** The newest chat-message seq seen from any source: the WebSocket hello asks for everything after it. */
  lastSeq: number;
}

const EMPTY: MessengerState = { chats: null, official: null, rooms: {}, connection: "connecting", lastSeq: 0 };

let state: MessengerState = EMPTY;
const listeners = new Set<() => void>();

export function getState(): MessengerState {
  return state;
}

export function update(change: (current: MessengerState) => MessengerState): void {
  const next = change(state);
  if (next === state) return;
  state = next;
  for (const listener of listeners) listener();
}

export function resetState(): void {
  update(() => EMPTY);
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function useMessengerState<T>(select: (state: MessengerState) => T): T {
  return useSyncExternalStore(subscribe, () => select(state));
}

export function roomMessageOf(message: ChatMessage): RoomMessage {
  return {
    key: message.id,
    chatId: message.chatId,
    seq: message.seq,
    sender: message.sender,
    text: message.text,
    clientMessageId: message.clientMessageId,
    createdAt: message.createdAt,
    state: "sent",
  };
}

/**
 * `messages` merged into a room's list: a stored message replaces our pending copy with the same
 * clientMessageId (so a resend after a lost answer shows once), a message already there is kept once, and the list
 * stays in seq order with undelivered messages last.
 */
export function mergeMessages(list: readonly RoomMessage[], incoming: readonly RoomMessage[], meId: string) {
  const byKey = new Map(list.map((message) => [message.key, message]));
  for (const message of incoming) {
    if (message.state === "sent") {
      const local = `local:${message.clientMessageId}`;
      if (message.sender.id === meId && byKey.has(local)) byKey.delete(local);
    }
    byKey.set(message.key, message);
  }
  const stored = [...byKey.values()].filter((message) => message.seq !== null);
  const waiting = [...byKey.values()].filter((message) => message.seq === null);
  stored.sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
  return [...stored, ...waiting];
}

/** A chat's one-line label: its title, or the other members' names. */
export function chatTitle(chat: Chat, meId: string): string {
  if (chat.title) return chat.title;
  const others = chat.members.filter((member) => member.id !== meId).map((member) => member.displayName);
  return others.join(", ") || chat.members.map((member) => member.displayName).join(", ");
}
