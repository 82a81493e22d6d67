/**
 * The messenger app's API as the web app calls it (services/messenger/README.md, "The messenger app's sessions" and
 * "Friends, chats and the live connection"; the wire shapes of @mpay/protocol's messenger-api.ts): a bearer `mss_…`
 * session from phone and password, then friends, direct chats and their messages. Used by `npm start` to make its
 * demo payers ready. The session token stays inside this object: never in a URL, an error or the output.
 */
import { z } from "zod";
import {
  chatMessageListSchema,
  chatMessageSchema,
  chatSchema,
  friendListSchema,
  friendSchema,
  type Chat,
  type ChatMessage,
  type Friend,
} from "@mpay/protocol";
import { DemoError } from "./config.ts";

const sessionSchema = z.object({
  sessionToken: z.string().startsWith("mss_"),
  account: z.object({ id: z.string(), phoneNumber: z.string(), displayName: z.string() }),
});
const errorSchema = z.object({ error: z.object({ code: z.string() }) });

/** An answer other than the one asked for: its status and stable error code (never a body's free text). */
export class MessengerAnswerError extends DemoError {
  constructor(
    readonly route: string,
    readonly status: number,
    readonly code: string | undefined,
  ) {
    super(`the messenger answered ${status}${code ? ` ${code}` : ""} to ${route}`);
  }
}

async function call<T>(
  messengerUrl: string,
  method: "GET" | "POST" | "DELETE",
  path: string,
  schema: z.ZodType<T> | null,
  options: { token?: string; body?: unknown } = {},
): Promise<T> {
  const headers: Record<string, string> = {};
  if (options.token) headers["authorization"] = `Bearer ${options.token}`;
  if (options.body !== undefined) headers["content-type"] = "application/json";
  const route = `${method} ${path.replace(/\/(acct|chat)_\w+/g, "/$1_…")}`;
  const response = await fetch(`${messengerUrl}${path}`, {
    method,
    headers,
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    signal: AbortSignal.timeout(15_000),
  });
  const json: unknown = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok)
    throw new MessengerAnswerError(route, response.status, errorSchema.safeParse(json).data?.error.code);
  if (schema === null) return undefined as T;
  const parsed = schema.safeParse(json);
  if (!parsed.success)
    throw new DemoError(`the messenger answered ${route} with something other than its documented shape`);
  return parsed.data;
}

export class MessengerSession {
  readonly #url: string;
  readonly #token: string;
  readonly accountId: string;

  private constructor(url: string, token: string, accountId: string) {
    this.#url = url;
    this.#token = token;
    this.accountId = accountId;
  }

  /** `POST /api/sessions`; null when the messenger does not take this phone and password (`credentials_invalid`). */
  static async signIn(messengerUrl: string, phoneNumber: string, password: string): Promise<MessengerSession | null> {
    try {
      const session = await call(messengerUrl, "POST", "/api/sessions", sessionSchema, {
        body: { phoneNumber, password },
      });
      return new MessengerSession(messengerUrl, session.sessionToken, session.account.id);
    } catch (error) {
      if (error instanceof MessengerAnswerError && error.code === "credentials_invalid") return null;
      throw error;
    }
  }

  async friends(): Promise<Friend[]> {
    return (await this.#call("GET", "/api/friends", friendListSchema)).data;
  }

  /** Adding is a lookup the messenger counts against a budget (20 an hour): callers add only who is missing. */
  addFriend(phoneNumber: string): Promise<Friend> {
    return this.#call("POST", "/api/friends", friendSchema, { phoneNumber });
  }

  /** The direct chat with a friend: the existing one when there is one (one per pair, however often opened). */
  directChat(accountId: string): Promise<Chat> {
    return this.#call("POST", "/api/chats", chatSchema, { memberIds: [accountId] });
  }

  /** Idempotent by `clientMessageId`: a resend answers the stored message and costs nothing. */
  send(chatId: string, clientMessageId: string, text: string): Promise<ChatMessage> {
    return this.#call("POST", `/api/chats/${encodeURIComponent(chatId)}/messages`, chatMessageSchema, {
      clientMessageId,
      text,
    });
  }

  async messages(chatId: string): Promise<ChatMessage[]> {
    return (await this.#call("GET", `/api/chats/${encodeURIComponent(chatId)}/messages`, chatMessageListSchema)).data;
  }

  /** `DELETE /api/sessions/current`: the token is refused from then on. */
  signOut(): Promise<void> {
    return this.#call("DELETE", "/api/sessions/current", null);
  }

  #call<T>(method: "GET" | "POST" | "DELETE", path: string, schema: z.ZodType<T> | null, body?: unknown): Promise<T> {
    return call(this.#url, method, path, schema, { token: this.#token, ...(body !== undefined ? { body } : {}) });
  }
}
