/**
 * One live connection (`GET /api/ws`), from hello to close.
 *
 * 1. The client's first frame is `{"type":"hello","sessionToken":"mss_…","afterSeq":N}` within the hello timeout;
 *    anything else, or nothing, closes with 4401. The token is never in the URL (URLs end up in access logs,
 *    proxies and browser history).
 * 2. The connection subscribes to the bus *before* it reads anything, answers `ready` with the account's newest
 *    seq, then sends every message of the account's chats after `afterSeq`, from the store, in seq order.
 * 3. From then on each bus event makes it read again from its cursor (the last seq it sent). Reading from the store
 *    instead of forwarding what the bus carried is what makes the stream gap-free and ordered: a message stored
 *    while the replay ran, or by another process whose notification never came, is still read the next time.
 * 4. Every ping interval: a client that answered none of the last two pings is dropped, and the session is checked
 *    again, so a session signed out elsewhere stops receiving (4401) within one interval.
 */
import type { FastifyBaseLogger } from "fastify";
import type { WebSocket } from "ws";
import { Secret, WS_CLOSE_UNAUTHORIZED, wsHelloSchema, type OfficialMessage, type WsServerFrame } from "@mpay/protocol";
import type { RealtimeTimings } from "../config.ts";
import { ApiError, describeForLog } from "../http/errors.ts";
import type { SessionService } from "../sessions/service.ts";
import type { ChatService } from "../chats/service.ts";
import type { LiveBus, LiveEvent } from "./bus.ts";

/** Messages read per query while catching up. */
const PAGE = 200;
/** A client this far behind (bytes queued for it) is cut off; it reconnects with its last seq and loses nothing. */
const MAX_BUFFERED_BYTES = 1024 * 1024;
/** Standard close codes (RFC 6455 7.4.1) for the server's own trouble and for "reconnect later". */
const CLOSE_INTERNAL_ERROR = 1011;
const CLOSE_TRY_AGAIN_LATER = 1013;

export interface LiveDeps {
  sessions: SessionService;
  chats: ChatService;
  bus: LiveBus;
  timings: RealtimeTimings;
  log: FastifyBaseLogger;
}

type State = "awaiting_hello" | "authenticating" | "live" | "closed";

export class LiveConnection {
  #state: State = "awaiting_hello";
  #accountId = "";
  /** The hello's session as an Authorization value, for the periodic check; redacts itself if ever logged. */
  #authorization = new Secret("");
  /** The highest seq sent (or that the client said it has). */
  #cursor = 0;
  #reading = false;
  #readAgain = false;
  /** Pings sent since the last pong. */
  #unanswered = 0;
  /** Official messages that arrived before `ready` was sent. */
  #early: OfficialMessage[] = [];
  #helloTimer: NodeJS.Timeout | undefined;
  #pingTimer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;

  constructor(
    private readonly socket: WebSocket,
    private readonly deps: LiveDeps,
  ) {}

  start(): void {
    this.#helloTimer = setTimeout(
      () => this.#close(WS_CLOSE_UNAUTHORIZED, "hello expected"),
      this.deps.timings.helloTimeoutMs,
    );
    this.socket.once("message", (data, isBinary) => {
      void this.#hello(isBinary ? null : data.toString());
    });
    this.socket.on("pong", () => {
      this.#unanswered = 0;
    });
    this.socket.on("close", () => this.#cleanUp());
    this.socket.on("error", () => this.#cleanUp());
  }

  async #hello(text: string | null): Promise<void> {
    if (this.#state !== "awaiting_hello") return;
    clearTimeout(this.#helloTimer);
    this.#state = "authenticating";
    let frame: unknown;
    try {
      frame = text === null ? null : JSON.parse(text);
    } catch {
      frame = null;
    }
    const hello = wsHelloSchema.safeParse(frame);
    if (!hello.success) return this.#close(WS_CLOSE_UNAUTHORIZED, "hello expected");
    try {
      this.#authorization = new Secret(`Bearer ${hello.data.sessionToken}`);
      this.#accountId = await this.deps.sessions.authenticate(this.#authorization.peek());
    } catch (error) {
      if (error instanceof ApiError) return this.#close(WS_CLOSE_UNAUTHORIZED, "session invalid");
      return this.#fail(error);
    }
    if (this.#state !== "authenticating") return; // the client left meanwhile
    // Subscribe first: a message stored from here on either is in the replay below or triggers another read.
    this.#unsubscribe = this.deps.bus.subscribe(this.#accountId, (event) => this.#onEvent(event));
    try {
      const newest = await this.deps.chats.newestSeq(this.#accountId);
      if (this.#state !== "authenticating") return;
      // A client cannot have seen more than its chats hold; a larger afterSeq (a stale or made-up one) would
      // otherwise hide every message until the messenger-wide seq caught up with it.
      this.#cursor = Math.min(hello.data.afterSeq, newest);
      this.#state = "live";
      this.#send({ type: "ready", seq: newest });
    } catch (error) {
      return this.#fail(error);
    }
    this.deps.log.info({ event: "live_connected", sub: this.#accountId, afterSeq: this.#cursor }, "live connection");
    for (const message of this.#early.splice(0)) this.#send({ type: "official_message", message });
    // setImmediate: a pong that arrived while the event loop was busy is read (poll phase) before it is missed.
    this.#pingTimer = setInterval(() => setImmediate(() => void this.#heartbeat()), this.deps.timings.pingIntervalMs);
    void this.#catchUp();
  }

  #onEvent(event: LiveEvent): void {
    if (event.type === "official_message") {
      if (this.#state === "live") this.#send({ type: "official_message", message: event.message });
      else if (this.#state === "authenticating") this.#early.push(event.message);
      return;
    }
    // Before `ready`, the catch-up that follows it reads this message anyway.
    if (this.#state === "live" && event.seq > this.#cursor) void this.#catchUp();
  }

  /** Sends every message after the cursor, one reader at a time; a request while reading makes it read again. */
  async #catchUp(): Promise<void> {
    if (this.#reading) {
      this.#readAgain = true;
      return;
    }
    this.#reading = true;
    try {
      do {
        this.#readAgain = false;
        let page: Awaited<ReturnType<ChatService["messagesAfter"]>>;
        do {
          page = await this.deps.chats.messagesAfter(this.#accountId, this.#cursor, PAGE);
          for (const message of page) {
            if (this.#state !== "live") return;
            this.#send({ type: "chat_message", message });
            this.#cursor = message.seq;
          }
          if (this.socket.bufferedAmount > MAX_BUFFERED_BYTES)
            return this.#close(CLOSE_TRY_AGAIN_LATER, "too far behind");
        } while (page.length === PAGE);
      } while (this.#readAgain && this.#state === "live");
    } catch (error) {
      this.#fail(error);
    } finally {
      this.#reading = false;
    }
  }

  async #heartbeat(): Promise<void> {
    if (this.#state !== "live") return;
    // Two intervals without an answer: the peer is gone without a close (a phone that lost its network).
    if (this.#unanswered >= 2) {
      this.socket.terminate();
      return this.#cleanUp();
    }
    this.#unanswered += 1;
    this.socket.ping();
    try {
      await this.deps.sessions.authenticate(this.#authorization.peek());
    } catch (error) {
      if (error instanceof ApiError) return this.#close(WS_CLOSE_UNAUTHORIZED, "session ended");
      this.deps.log.warn({ err: describeForLog(error) }, "live connection: session check failed");
    }
  }

  #send(frame: WsServerFrame): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(JSON.stringify(frame));
  }

  #fail(error: unknown): void {
    // A read that ends after the client left (or the messenger is stopping and closed the database) is no failure.
    if (this.#state === "closed") return;
    this.deps.log.error({ err: describeForLog(error), sub: this.#accountId || undefined }, "live connection failed");
    this.#close(CLOSE_INTERNAL_ERROR, "internal error");
  }

  #close(code: number, reason: string): void {
    if (this.#state === "closed") return;
    this.#cleanUp();
    this.socket.close(code, reason);
  }

  #cleanUp(): void {
    this.#state = "closed";
    clearTimeout(this.#helloTimer);
    clearInterval(this.#pingTimer);
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.#early = [];
  }
}
