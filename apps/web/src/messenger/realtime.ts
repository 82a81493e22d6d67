/**
 * The messenger's WebSocket (`appConfig().messengerWsUrl`, i.e. `ws://…/api/ws`; web-contract.md point 5). The first frame is the hello with
 * the session token (never in the URL) and the last seq this tab has; the server answers `ready`, replays every
 * chat message after that seq and then pushes new ones live. A dropped connection is retried with capped,
 * jittered backoff; because each hello carries the last seq, nothing sent meanwhile is missed.
 */
import { WS_CLOSE_UNAUTHORIZED, wsServerFrameSchema } from "@mpay/protocol";
import type { ChatMessage, OfficialMessage } from "./api.ts";

export type ConnectionState = "connecting" | "online" | "offline";

export interface RealtimeHandlers {
  chatMessage(message: ChatMessage): void;
  officialMessage(message: OfficialMessage): void;
  state(state: ConnectionState): void;
  /** The server refused the session (close 4401): the tab must sign in again. */
  sessionRefused(): void;
}

export interface RealtimeOptions {
  /** The messenger's WebSocket origin (appConfig().messengerWsUrl). */
  wsUrl: string;
  token(): string | undefined;
  /** The newest seq this tab holds (0 when none). */
  lastSeq(): number;
  handlers: RealtimeHandlers;
}

const BACKOFF_FIRST_MS = 500;
const BACKOFF_MAX_MS = 15_000;

/** The socket's URL: `/config.json` names the whole endpoint (`ws://…/api/ws`); a bare origin gets the path added. */
export function socketUrl(wsUrl: string): string {
  const url = new URL(wsUrl);
  if (url.pathname === "/" || url.pathname === "") url.pathname = "/api/ws";
  return url.toString();
}

/** The delay before reconnect attempt `attempt` (0-based): doubling from 0.5 s to 15 s, with ±25 % jitter. */
export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** attempt);
  return Math.round(base * (0.75 + random() * 0.5));
}

export class RealtimeClient {
  private socket: WebSocket | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private attempt = 0;
  private stopped = true;
  private readonly goOnline = () => this.reconnectNow();
  private readonly goOffline = () => this.drop();

  constructor(private readonly options: RealtimeOptions) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    addEventListener("online", this.goOnline);
    addEventListener("offline", this.goOffline);
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    removeEventListener("online", this.goOnline);
    removeEventListener("offline", this.goOffline);
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.close();
  }

  private connect(): void {
    if (this.stopped) return;
    const token = this.options.token();
    if (!token) return;
    this.options.handlers.state("connecting");
    let socket: WebSocket;
    try {
      socket = new WebSocket(socketUrl(this.options.wsUrl));
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      socket.send(JSON.stringify({ type: "hello", sessionToken: token, afterSeq: this.options.lastSeq() }));
    };
    socket.onmessage = (event) => this.receive(event.data);
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (event.code === WS_CLOSE_UNAUTHORIZED) {
        this.stop();
        this.options.handlers.sessionRefused();
        return;
      }
      this.scheduleReconnect();
    };
  }

  private receive(data: unknown): void {
    if (typeof data !== "string") return;
    let json: unknown;
    try {
      json = JSON.parse(data);
    } catch {
      return;
    }
    // Frames come from another process: checked against the shared schema; an unknown frame is ignored.
    const parsed = wsServerFrameSchema.safeParse(json);
    if (!parsed.success) return;
    const frame = parsed.data;
    if (frame.type === "ready") {
      this.attempt = 0;
      this.options.handlers.state("online");
    } else if (frame.type === "chat_message") {
      this.options.handlers.chatMessage(frame.message);
    } else {
      this.options.handlers.officialMessage(frame.message);
    }
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    this.options.handlers.state("offline");
    if (this.timer) clearTimeout(this.timer);
    // While the browser knows it is offline, wait for its `online` event instead of spinning.
    if (typeof navigator !== "undefined" && navigator.onLine === false) return;
    this.timer = setTimeout(
      () => {
        this.timer = null;
        this.connect();
      },
      backoffDelay(this.attempt++),
    );
  }

  /** The network went away: close now (a half-open socket would look connected) and wait for `online`. */
  private drop(): void {
    this.close();
    if (!this.stopped) this.options.handlers.state("offline");
  }

  private reconnectNow(): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.attempt = 0;
    this.close();
    this.connect();
  }

  private close(): void {
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.onclose = null;
      socket.onmessage = null;
      socket.close();
    }
  }
}
