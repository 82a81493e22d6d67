/**
 * The signed-in tab's work: load the chat list and MPay's messages, keep the WebSocket running, open rooms, send
 * and retry messages, mark what the reader has seen. Screens call these functions and read the store.
 */
import { appConfig } from "../shell/config.ts";
import { type Chat, type ChatMessage, isRetryable, messengerApi, MessengerError, type OfficialMessage } from "./api.ts";
import { RealtimeClient } from "./realtime.ts";
import { currentSession, clearSession } from "./session.ts";
import { getState, mergeMessages, resetState, type Room, type RoomMessage, roomMessageOf, update } from "./store.ts";

export const HISTORY_PAGE = 30;

let realtime: RealtimeClient | null = null;
/** The room on screen: its new messages are read as they arrive instead of counted as unread. */
let activeChatId: string | null = null;

function meId(): string {
  return currentSession()?.account.id ?? "";
}

function bumpSeq(seq: number): void {
  update((s) => (seq > s.lastSeq ? { ...s, lastSeq: seq } : s));
}

function setRoom(chatId: string, change: (room: Room) => Room): void {
  update((s) => {
    const room = s.rooms[chatId] ?? { messages: [], loaded: false, hasOlder: true };
    return { ...s, rooms: { ...s.rooms, [chatId]: change(room) } };
  });
}

/** Bumped by every stop: a start that finds it changed while loading was cancelled and starts no socket. */
let generation = 0;

/**
 * Starts the signed-in tab: lists first (their newest seq is where the WebSocket resumes), then the socket. A list
 * that fails to load does not keep the socket down: its `ready` takes the list again.
 */
export async function startMessenger(): Promise<void> {
  stopMessenger();
  const started = generation;
  await Promise.allSettled([refreshChats(), refreshOfficial()]);
  if (started !== generation || !currentSession()) return;
  realtime = new RealtimeClient({
    wsUrl: appConfig().messengerWsUrl,
    token: () => currentSession()?.sessionToken,
    lastSeq: () => getState().lastSeq,
    handlers: {
      chatMessage: receiveChatMessage,
      officialMessage: receiveOfficialMessage,
      state: (connection) => {
        update((s) => (s.connection === connection ? s : { ...s, connection }));
        // Back online: deliver what waited, with the same clientMessageIds (the server answers a repeat once), and
        // take the list again (reads made in another tab, chats started while we were away).
        if (connection === "online") {
          resendWaiting();
          void refreshChats().catch(() => undefined);
          if (getState().official === null) void refreshOfficial().catch(() => undefined);
        }
      },
      sessionRefused: () => signedOut(),
    },
  });
  realtime.start();
}

export function stopMessenger(): void {
  generation += 1;
  realtime?.stop();
  realtime = null;
  resetState();
}

/** The session is gone (signed out, expired, refused): forget everything this tab held. */
export function signedOut(): void {
  stopMessenger();
  clearSession();
}

export async function signOut(): Promise<void> {
  try {
    await messengerApi.signOut();
  } catch {
    // Signing out locally matters most; the server session expires on its own.
  }
  signedOut();
}

async function guarded<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof MessengerError && error.code === "session_invalid") signedOut();
    throw error;
  }
}

export async function refreshChats(): Promise<void> {
  const { data } = await guarded(() => messengerApi.chats());
  const newest = Math.max(0, ...data.map((chat) => chat.lastMessage?.seq ?? 0));
  update((s) => ({ ...s, chats: data }));
  bumpSeq(newest);
}

export async function refreshOfficial(): Promise<void> {
  const page = await guarded(() => messengerApi.officialMessages());
  update((s) => ({ ...s, official: { messages: page.data, unreadCount: page.unreadCount } }));
}

function receiveChatMessage(message: ChatMessage): void {
  const me = meId();
  bumpSeq(message.seq);
  if (getState().rooms[message.chatId]) {
    setRoom(message.chatId, (room) => ({
      ...room,
      messages: mergeMessages(room.messages, [roomMessageOf(message)], me),
    }));
  }
  const chats = getState().chats;
  const known = chats?.some((chat) => chat.id === message.chatId);
  if (!known) {
    // A chat someone else just started with us: the list must learn its members and title.
    void refreshChats().catch(() => undefined);
    return;
  }
  const reading = activeChatId === message.chatId && document.visibilityState === "visible";
  update((s) => ({
    ...s,
    chats: orderByActivity(
      (s.chats ?? []).map((chat) => {
        if (chat.id !== message.chatId) return chat;
        if (chat.lastMessage && chat.lastMessage.seq >= message.seq) return chat;
        const fromOther = message.sender.id !== me;
        return {
          ...chat,
          lastMessage: message,
          unreadCount: chat.unreadCount + (fromOther && !reading ? 1 : 0),
        };
      }),
    ),
  }));
  if (reading && message.sender.id !== me) void markChatRead(message.chatId);
}

function orderByActivity(chats: Chat[]): Chat[] {
  return [...chats].sort((a, b) => (b.lastMessage?.seq ?? 0) - (a.lastMessage?.seq ?? 0));
}

function receiveOfficialMessage(message: OfficialMessage): void {
  update((s) => {
    const official = s.official ?? { messages: [], unreadCount: 0 };
    if (official.messages.some((known) => known.id === message.id)) return s;
    return {
      ...s,
      official: {
        messages: [message, ...official.messages],
        unreadCount: official.unreadCount + (message.readAt ? 0 : 1),
      },
    };
  });
}

export function setActiveChat(chatId: string | null): void {
  activeChatId = chatId;
}

/** Loads a room's newest page (once) and marks it read. */
export async function openRoom(chatId: string): Promise<void> {
  if (!getState().rooms[chatId]?.loaded) {
    const { data, hasMore } = await guarded(() => messengerApi.history(chatId, { limit: HISTORY_PAGE }));
    const me = meId();
    setRoom(chatId, (room) => ({
      loaded: true,
      hasOlder: hasMore ?? data.length >= HISTORY_PAGE,
      messages: mergeMessages(room.messages, data.map(roomMessageOf), me),
    }));
    for (const message of data) bumpSeq(message.seq);
  }
  await markChatRead(chatId);
}

/** The page before the oldest message the room holds; false when there is nothing older. */
export async function loadOlder(chatId: string): Promise<boolean> {
  const room = getState().rooms[chatId];
  if (!room?.hasOlder) return false;
  const oldest = room.messages.find((message) => message.seq !== null)?.seq;
  if (oldest === undefined || oldest === null) return false;
  const { data, hasMore } = await guarded(() =>
    messengerApi.history(chatId, { beforeSeq: oldest, limit: HISTORY_PAGE }),
  );
  setRoom(chatId, (current) => ({
    ...current,
    hasOlder: hasMore ?? data.length >= HISTORY_PAGE,
    messages: mergeMessages(current.messages, data.map(roomMessageOf), meId()),
  }));
  return data.length > 0;
}

export async function markChatRead(chatId: string): Promise<void> {
  const room = getState().rooms[chatId];
  const newest = room?.messages.reduce((max, message) => Math.max(max, message.seq ?? 0), 0) ?? 0;
  const chat = getState().chats?.find((known) => known.id === chatId);
  if (!chat || newest === 0 || chat.unreadCount === 0) return;
  const { unreadCount } = await messengerApi.markRead(chatId, newest).catch(() => ({ unreadCount: chat.unreadCount }));
  update((s) => ({
    ...s,
    chats: (s.chats ?? []).map((known) => (known.id === chatId ? { ...known, unreadCount } : known)),
  }));
}

/** Marks every unread MPay message read (the reader opened the MPay chat). */
export async function markOfficialRead(): Promise<void> {
  const unread = getState().official?.messages.filter((message) => !message.readAt) ?? [];
  if (unread.length === 0) return;
  const read = await Promise.all(unread.map((message) => messengerApi.readOfficial(message.id).catch(() => null)));
  const byId = new Map(read.filter((m): m is OfficialMessage => m !== null).map((m) => [m.id, m]));
  update((s) => {
    if (!s.official) return s;
    const messages = s.official.messages.map((message) => byId.get(message.id) ?? message);
    return { ...s, official: { messages, unreadCount: messages.filter((message) => !message.readAt).length } };
  });
}

/** Sends `text` with a fresh clientMessageId; the message shows at once as pending. */
export function sendMessage(chatId: string, text: string): void {
  const session = currentSession();
  if (!session) return;
  const clientMessageId = crypto.randomUUID();
  const local: RoomMessage = {
    key: `local:${clientMessageId}`,
    chatId,
    seq: null,
    sender: { id: session.account.id, displayName: session.account.displayName },
    text,
    clientMessageId,
    createdAt: new Date().toISOString(),
    state: "pending",
  };
  setRoom(chatId, (room) => ({ ...room, messages: [...room.messages, local] }));
  void deliver(local);
}

/** Sends a failed message again with the same clientMessageId, so a copy the server already stored is not doubled. */
export function retryMessage(chatId: string, key: string): void {
  const message = getState().rooms[chatId]?.messages.find((known) => known.key === key);
  if (!message || message.state !== "failed") return;
  setLocalState(message, "pending");
  void deliver(message);
}

function setLocalState(message: RoomMessage, next: RoomMessage["state"]): void {
  setRoom(message.chatId, (room) => ({
    ...room,
    messages: room.messages.map((known) => (known.key === message.key ? { ...known, state: next } : known)),
  }));
}

const inFlight = new Set<string>();

async function deliver(message: RoomMessage): Promise<void> {
  if (inFlight.has(message.clientMessageId)) return;
  inFlight.add(message.clientMessageId);
  try {
    const stored = await messengerApi.send(message.chatId, {
      clientMessageId: message.clientMessageId,
      text: message.text,
    });
    receiveChatMessage(stored);
    if (!getState().rooms[message.chatId]?.messages.some((known) => known.key === stored.id)) {
      setRoom(message.chatId, (room) => ({
        ...room,
        messages: mergeMessages(room.messages, [roomMessageOf(stored)], meId()),
      }));
    }
  } catch (error) {
    if (error instanceof MessengerError && error.code === "session_invalid") signedOut();
    // A lost answer may mean the server stored it: keep the clientMessageId so a retry is answered, not doubled.
    // A refusal (4xx) would be refused again: it is shown, not retried.
    setLocalState(message, isRetryable(error) ? "failed" : "rejected");
  } finally {
    inFlight.delete(message.clientMessageId);
  }
}

function resendWaiting(): void {
  for (const room of Object.values(getState().rooms)) {
    for (const message of room.messages) {
      if (message.state === "failed") retryMessage(message.chatId, message.key);
    }
  }
}
