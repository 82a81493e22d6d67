/**
 * The messenger's HTTP API as the web app calls it (web-contract.md, "Messenger additions"): JSON, a bearer
 * `mss_…` session in `Authorization`, errors `{ error: { type, code, message, param? } }`. The token is read from
 * the session module for each call and never put in a URL.
 */
import type {
  Chat,
  ChatMessage,
  ChatMessageList,
  ChatRead,
  Friend,
  MessengerAccount,
  OfficialMessage,
} from "@mpay/protocol";
import { appConfig } from "../shell/config.ts";
import { sessionToken } from "./session.ts";

export type { Chat, ChatMessage, Friend, OfficialMessage };

/** The account as a session answer names it. */
export interface AccountView {
  id: string;
  phoneNumber: string;
  displayName: string;
}

export interface Session {
  sessionToken: string;
  expiresAt: string;
  account: AccountView;
}

/** An answer with an error body (`code` is stable), or `network` when no answer came at all. */
export class MessengerError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    readonly param?: string,
  ) {
    super(message);
    this.name = "MessengerError";
  }
}

/**
 * True when the same request may succeed later: it was lost on the way, the server failed, or a rate limit said
 * "not now". Sending it again with its idempotency key is safe.
 */
export function isRetryable(error: unknown): boolean {
  return error instanceof MessengerError && (error.code === "network" || error.status === 429 || error.status >= 500);
}

interface ErrorBody {
  error?: { code?: string; message?: string; param?: string };
}

async function call<T>(method: "GET" | "POST" | "DELETE", path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  const token = sessionToken();
  if (token) headers["authorization"] = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  let answer: Response;
  try {
    answer = await fetch(`${appConfig().messengerUrl}${path}`, {
      method,
      headers,
      body: body === undefined ? null : JSON.stringify(body),
      cache: "no-store",
    });
  } catch {
    throw new MessengerError("network", "The messenger could not be reached.", 0);
  }
  if (answer.status === 204) return undefined as T;
  const json = (await answer.json().catch(() => ({}))) as T & ErrorBody;
  if (!answer.ok) {
    const error = json.error ?? {};
    throw new MessengerError(
      error.code ?? "http_error",
      error.message ?? `HTTP ${answer.status}`,
      answer.status,
      error.param,
    );
  }
  return json;
}

const query = (params: Record<string, string | number | undefined>) => {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined) search.set(key, String(value));
  const text = search.toString();
  return text ? `?${text}` : "";
};

export const messengerApi = {
  signUp: (input: { phoneNumber: string; displayName: string; password: string }) =>
    call<AccountView>("POST", "/api/accounts", input),
  signIn: (input: { phoneNumber: string; password: string }) => call<Session>("POST", "/api/sessions", input),
  signOut: () => call<void>("DELETE", "/api/sessions/current"),
  me: () => call<MessengerAccount>("GET", "/api/me"),

  officialMessages: (limit = 50) =>
    call<{ data: OfficialMessage[]; hasMore: boolean; unreadCount: number }>("GET", `/api/messages${query({ limit })}`),
  readOfficial: (id: string) => call<OfficialMessage>("POST", `/api/messages/${encodeURIComponent(id)}/read`),

  friends: () => call<{ data: Friend[] }>("GET", "/api/friends"),
  addFriend: (phoneNumber: string) => call<Friend>("POST", "/api/friends", { phoneNumber }),

  chats: () => call<{ data: Chat[] }>("GET", "/api/chats"),
  createChat: (memberIds: string[], title?: string) =>
    call<Chat>("POST", "/api/chats", title === undefined ? { memberIds } : { memberIds, title }),
  history: (chatId: string, page: { beforeSeq?: number; afterSeq?: number; limit?: number }) =>
    call<{ data: ChatMessage[]; hasMore?: boolean }>(
      "GET",
      `/api/chats/${encodeURIComponent(chatId)}/messages${query(page)}`,
    ),
  send: (chatId: string, input: { clientMessageId: string; text: string }) =>
    call<ChatMessage>("POST", `/api/chats/${encodeURIComponent(chatId)}/messages`, input),
  markRead: (chatId: string, seq: number) =>
    call<ChatRead>("POST", `/api/chats/${encodeURIComponent(chatId)}/read`, { seq }),
};
