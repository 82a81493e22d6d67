/**
 * The in-process fan-out from "stored" to "connected": the chat and official services publish here after their
 * commit, and each live connection (realtime/connection.ts) subscribes for its account.
 *
 * One process only. Several messenger processes behind a load balancer would each hear only their own writes; they
 * would need a shared channel instead of this class: PostgreSQL LISTEN/NOTIFY (`pg_notify('chat', seq)` in the
 * send's transaction, delivered at commit) or NATS (`NATS_URL`, as the pay server's events). Nothing else changes,
 * because a chat event carries only a seq, never the message: a connection reads what it missed from the store
 * (messages after its cursor), exactly as a client that reconnects with `afterSeq` does. That replay is what makes
 * delivery survive reconnects, restarts and a lost notification; the bus only makes it prompt.
 */
import type { OfficialMessage } from "@mpay/protocol";

export type LiveEvent =
  /** Messages up to `seq` are stored in one of the account's chats. */
  | { type: "chat_message"; seq: number }
  /** A new official message to the account (its own list, not part of the chat seq). */
  | { type: "official_message"; message: OfficialMessage };

export type LiveListener = (event: LiveEvent) => void;

export class LiveBus {
  readonly #subscribers = new Map<string, Set<LiveListener>>();

  /** Hears every event for `accountId` until the returned function is called. */
  subscribe(accountId: string, listener: LiveListener): () => void {
    let listeners = this.#subscribers.get(accountId);
    if (!listeners) {
      listeners = new Set();
      this.#subscribers.set(accountId, listeners);
    }
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0 && this.#subscribers.get(accountId) === listeners) this.#subscribers.delete(accountId);
    };
  }

  /** Tells every connection of these accounts. A listener's failure is its own: the others still hear. */
  publish(accountIds: Iterable<string>, event: LiveEvent): void {
    for (const accountId of accountIds) {
      for (const listener of this.#subscribers.get(accountId) ?? []) {
        try {
          listener(event);
        } catch {
          // A connection handles its own errors (it closes itself); one broken socket must not stop the fan-out.
        }
      }
    }
  }

  /** Live connections of the account (tests, metrics). */
  connections(accountId: string): number {
    return this.#subscribers.get(accountId)?.size ?? 0;
  }
}
