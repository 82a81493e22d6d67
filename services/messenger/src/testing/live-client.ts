/** A live connection (`GET /api/ws`) as the web app opens it, over a real socket, with its frames queued for tests. */
import { WebSocket } from "ws";
import { wsServerFrameSchema, type WsServerFrame } from "@mpay/protocol";

export interface Closed {
  code: number;
  reason: string;
}

export class LiveClient {
  readonly frames: WsServerFrame[] = [];
  pings = 0;
  readonly closed: Promise<Closed>;
  #waiters: Array<() => void> = [];

  private constructor(readonly socket: WebSocket) {
    socket.on("message", (data) => {
      this.frames.push(wsServerFrameSchema.parse(JSON.parse(data.toString())));
      for (const wake of this.#waiters.splice(0)) wake();
    });
    socket.on("ping", () => {
      this.pings += 1;
      for (const wake of this.#waiters.splice(0)) wake();
    });
    this.closed = new Promise((resolve) => {
      socket.on("close", (code, reason) => {
        resolve({ code, reason: reason.toString() });
        for (const wake of this.#waiters.splice(0)) wake();
      });
    });
  }

  /** Opens the socket (`path` may carry a query, to show it is ignored); sends nothing yet. */
  static async connect(baseUrl: string, path = "/api/ws", options: { autoPong?: boolean } = {}): Promise<LiveClient> {
    const socket = new WebSocket(`${baseUrl.replace(/^http/, "ws")}${path}`, options);
    const client = new LiveClient(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once("open", () => resolve());
      socket.once("error", reject);
    });
    return client;
  }

  /** Connects and says hello; resolves once `ready` came. */
  static async open(
    baseUrl: string,
    sessionToken: string,
    afterSeq = 0,
    options: { autoPong?: boolean } = {},
  ): Promise<LiveClient> {
    const client = await LiveClient.connect(baseUrl, "/api/ws", options);
    client.send({ type: "hello", sessionToken, afterSeq });
    await client.until((frames) => frames.some((frame) => frame.type === "ready"));
    return client;
  }

  send(frame: unknown): void {
    this.socket.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /** Waits until `done(frames)` holds (checked on every frame, ping and close). */
  async until(done: (frames: WsServerFrame[]) => boolean, timeoutMs = 10_000): Promise<WsServerFrame[]> {
    const deadline = Date.now() + timeoutMs;
    while (!done(this.frames)) {
      if (this.socket.readyState === WebSocket.CLOSED)
        throw new Error(`closed while waiting; got ${JSON.stringify(this.frames)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting; got ${JSON.stringify(this.frames)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.frames;
  }

  /** The chat messages received so far, as [seq, text]. */
  chatMessages(): Array<[number, string]> {
    return this.frames.flatMap((frame) =>
      frame.type === "chat_message" ? [[frame.message.seq, frame.message.text] as [number, string]] : [],
    );
  }

  async close(): Promise<Closed> {
    if (this.socket.readyState !== WebSocket.CLOSED) this.socket.close(1000);
    return this.closed;
  }
}
