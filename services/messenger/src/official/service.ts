/**
 * Messages from official accounts (the "MPay" account) to messenger accounts: received from the account's
 * sender, kept, and served to the recipient's own sessions only.
 *
 * Receiving is idempotent on the sender's id (this method needs to be idempotent: the pay server re-sends until
 * it hears an answer): the same message again answers the stored one; the same id with other contents is refused,
 * so a bug or a replay can neither duplicate a notice nor rewrite one the payer may already have read.
 */
import type { OfficialMessage, officialMessageInputSchema } from "@mpay/protocol";
import type { z } from "zod";
import type { Db } from "../db/client.ts";
import type { OfficialAccountConfig } from "../config.ts";
import { ApiError } from "../http/errors.ts";
import type { AccountService } from "../accounts/service.ts";
import {
  accountMessage,
  insertMessage,
  listMessages,
  markRead,
  messageById,
  unreadCount,
  type OfficialMessageRow,
} from "./store.ts";

export type ReceivedMessage = z.output<typeof officialMessageInputSchema>;

export interface MessagePage {
  data: OfficialMessage[];
  hasMore: boolean;
  unreadCount: number;
}

function sameMessage(row: OfficialMessageRow, sender: string, input: ReceivedMessage): boolean {
  const actions = (list: ReadonlyArray<{ label: string; action: string }>) =>
    JSON.stringify(list.map(({ label, action }) => [label, action]));
  return (
    row.sender === sender &&
    row.accountId === input.to &&
    row.kind === input.kind &&
    row.text === input.text &&
    actions(row.actions) === actions(input.actions ?? []) &&
    sortedJson(row.params) === sortedJson(input.params) &&
    row.createdAt.getTime() === new Date(input.createdAt).getTime()
  );
}

/** Params in a stable form: the same facts in another key order (a re-serialized resend) are the same message. */
function sortedJson(params: Record<string, string | number> | null | undefined): string {
  return JSON.stringify(params ? Object.entries(params).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) : null);
}

/** Hears a newly stored official message (not a resend), after its commit. Must not throw. */
export type ReceivedListener = (accountId: string, message: OfficialMessage) => void;

export class OfficialMessageService {
  private readonly names: ReadonlyMap<string, string>;
  readonly #listeners: ReceivedListener[] = [];

  constructor(
    private readonly db: Db,
    private readonly accounts: AccountService,
    officialAccounts: readonly OfficialAccountConfig[],
  ) {
    this.names = new Map(officialAccounts.map((account) => [account.handle, account.name]));
  }

  /** The live connections (wired in system.ts) hear each new message once it is stored. */
  onReceived(listener: ReceivedListener): void {
    this.#listeners.push(listener);
  }

  /** Stores a message from `sender` (an official account's handle); `created` is false for a resend. */
  async receive(sender: string, input: ReceivedMessage): Promise<{ message: OfficialMessage; created: boolean }> {
    // A button may only hand its action to the sender's own handler, never to a link or another party's scheme.
    (input.actions ?? []).forEach((button, index) => {
      if (!button.action.startsWith(`${sender}:`)) {
        throw new ApiError(
          "parameter_invalid",
          `Invalid parameter actions.${index}.action: it must start with "${sender}:".`,
          `actions.${index}.action`,
        );
      }
    });
    if (!(await this.accounts.find(input.to)))
      throw new ApiError("account_not_found", "No messenger account has this id.", "to");
    const inserted = await insertMessage(this.db, {
      id: input.id,
      sender,
      accountId: input.to,
      kind: input.kind,
      text: input.text,
      actions: (input.actions ?? []).map(({ label, action }) => ({ label, action })),
      params: input.params ?? null,
      createdAt: new Date(input.createdAt),
    });
    if (inserted) {
      const message = this.view(inserted);
      for (const listener of this.#listeners) listener(inserted.accountId, message);
      return { message, created: true };
    }
    const existing = await messageById(this.db, input.id);
    if (!existing || !sameMessage(existing, sender, input)) {
      throw new ApiError("message_id_conflict", "A different message was already sent with this id.", "id");
    }
    return { message: this.view(existing), created: false };
  }

  /** The account's messages, newest first; `startingAfter` is the last id of the previous page. */
  async list(accountId: string, page: { limit: number; startingAfter?: string | undefined }): Promise<MessagePage> {
    let beforeSeq: number | undefined;
    if (page.startingAfter !== undefined) {
      const after = await accountMessage(this.db, accountId, page.startingAfter);
      if (!after)
        throw new ApiError(
          "parameter_invalid",
          "startingAfter must be the id of one of your messages.",
          "startingAfter",
        );
      beforeSeq = after.seq;
    }
    const [{ rows, hasMore }, unread] = await Promise.all([
      listMessages(this.db, accountId, page.limit, beforeSeq),
      unreadCount(this.db, accountId),
    ]);
    return { data: rows.map((row) => this.view(row)), hasMore, unreadCount: unread };
  }

  /** Marks one of the account's messages read (again: no change); `message_not_found` for any other id. */
  async markRead(accountId: string, id: string): Promise<OfficialMessage> {
    const row = await markRead(this.db, accountId, id);
    if (!row) throw new ApiError("message_not_found", "You have no message with this id.", "id");
    return this.view(row);
  }

  unreadCount(accountId: string): Promise<number> {
    return unreadCount(this.db, accountId);
  }

  private view(row: OfficialMessageRow): OfficialMessage {
    return {
      id: row.id,
      object: "message",
      from: { account: row.sender, name: this.names.get(row.sender) ?? row.sender },
      kind: row.kind,
      text: row.text,
      actions: row.actions,
      ...(row.params ? { params: row.params } : {}),
      createdAt: row.createdAt.toISOString(),
      receivedAt: row.receivedAt.toISOString(),
      readAt: row.readAt?.toISOString() ?? null,
    };
  }
}
