/**
 * Friends: an account adds another by phone number, and may then start chats with them.
 *
 * Adding is a lookup of a phone number, so it is the one place where someone could learn which numbers have an
 * account. Each add claims a slot per account **before** the lookup (service-kit's LimitSlots, claimed atomically:
 * of any number of simultaneous adds only the limit run), and an unknown number costs the same as a known one.
 */
import { LimitSlots, type Clock } from "@mpay/service-kit";
import { normalizePhoneNumber, type Friend } from "@mpay/protocol";
import type { Db } from "../db/client.ts";
import { ApiError } from "../http/errors.ts";
import type { Account, AccountService } from "../accounts/service.ts";
import { friendLookupSlots } from "./schema.ts";
import { friendIds, friendIdsAmong, insertFriend } from "./store.ts";

export interface FriendLimits {
  perWindow: number;
  windowSeconds: number;
}

const LOOKUP = "lookup";

function view(account: Account): Friend {
  return { object: "friend", id: account.id, displayName: account.displayName, phoneNumber: account.phoneNumber };
}

export class FriendService {
  readonly #slots = new LimitSlots(friendLookupSlots);

  constructor(
    private readonly db: Db,
    private readonly accounts: AccountService,
    private readonly limits: FriendLimits,
    private readonly clock: Clock,
  ) {}

  /**
   * Adds the account with this phone number to `accountId`'s friends; `created` is false when it already was one.
   * This method needs to be idempotent (a client retries after a lost answer): adding a friend again changes
   * nothing. `phone_number_invalid`, `friend_invalid` (yourself), `rate_limited`, `account_not_found`.
   */
  async add(accountId: string, phoneInput: string): Promise<{ friend: Friend; created: boolean }> {
    const phoneNumber = normalizePhoneNumber(phoneInput);
    if (!phoneNumber)
      throw new ApiError(
        "phone_number_invalid",
        "phoneNumber must be in international E.164 format, for example +821012345678.",
        "phoneNumber",
      );
    const self = await this.accounts.find(accountId);
    if (!self) throw new ApiError("session_invalid", "The session's account no longer exists; sign in again.");
    // Your own number needs no lookup, so it costs no slot.
    if (self.phoneNumber === phoneNumber)
      throw new ApiError("friend_invalid", "You cannot add yourself as a friend.", "phoneNumber");
    const { perWindow, windowSeconds } = this.limits;
    const slot = await this.#slots.claim(
      this.db,
      [{ subject: `account:${accountId}`, kind: LOOKUP, max: perWindow, windowSeconds }],
      this.clock.now(),
    );
    if (!slot)
      throw new ApiError(
        "rate_limited",
        `You can add at most ${perWindow} friends in ${describeWindow(windowSeconds)}; try again later.`,
        undefined,
        { retryAfterSeconds: windowSeconds },
      );
    const friend = await this.accounts.findByPhoneNumber(phoneNumber);
    if (!friend) throw new ApiError("account_not_found", "No messenger account has this phone number.", "phoneNumber");
    const created = await insertFriend(this.db, accountId, friend.id);
    return { friend: view(friend), created };
  }

  /** The account's friends, by display name. */
  async list(accountId: string): Promise<Friend[]> {
    const ids = await friendIds(this.db, accountId);
    const found = await this.accounts.findMany(ids);
    return ids
      .flatMap((id) => {
        const account = found.get(id);
        return account ? [view(account)] : [];
      })
      .sort((a, b) => a.displayName.localeCompare(b.displayName) || (a.id < b.id ? -1 : 1));
  }

  /** The ids among `ids` that are not `accountId`'s friends (empty: all are). */
  async notFriends(accountId: string, ids: readonly string[]): Promise<string[]> {
    const found = await friendIdsAmong(this.db, accountId, ids);
    return ids.filter((id) => !found.has(id));
  }

  /** Deletes lookups older than the window; returns how many. */
  sweep(): Promise<number> {
    return this.#slots.sweep(this.db, new Date(this.clock.now().getTime() - this.limits.windowSeconds * 1000));
  }
}

function describeWindow(seconds: number): string {
  if (seconds % 3600 === 0) return seconds === 3600 ? "an hour" : `${seconds / 3600} hours`;
  if (seconds % 60 === 0) return seconds === 60 ? "a minute" : `${seconds / 60} minutes`;
  return `${seconds} seconds`;
}
