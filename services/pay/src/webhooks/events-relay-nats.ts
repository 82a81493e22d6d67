/**
 * The events relay's JetStream side (issue 12): one connection, the stream made if missing, and a publish that
 * resolves only on the server's ack. The message id is the event id (`Nats-Msg-Id`), so an event published twice
 * within the stream's duplicate window — the relay died between the ack and marking the row — is stored once.
 */
import { connect, nanos, type NatsConnection } from "@nats-io/transport-node";
import {
  jetstream,
  JetStreamApiCodes,
  JetStreamApiError,
  jetstreamManager,
  type JetStreamClient,
} from "@nats-io/jetstream";
import { ConfigError } from "@mpay/service-kit";
import { eventBody } from "./worker.ts";

export interface EventStreamSettings {
  /** NATS_URL: one or more `nats://host:port`, comma-separated. */
  natsUrl: string;
  /** MPAY_NATS_STREAM: the JetStream stream, made at first connection if missing (default MPAY_EVENTS). */
  stream: string;
  /** MPAY_NATS_SUBJECT_PREFIX: subjects are `<prefix>.<mode>.<merchant>.<type>` (default mpay.events). */
  subjectPrefix: string;
  /** How long one publish waits for the server's ack before the batch stops and is retried. */
  publishTimeoutMs: number;
}

/**
 * Longer than any pause between a publish and its mark that a process restart makes: a re-publish inside it is
 * dropped by the server; after it, consumers still dedupe by the message id (= the event id).
 */
export const DUPLICATE_WINDOW_MS = 5 * 60_000;

const STREAM_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const SUBJECT_PREFIX = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/** The event stream's settings from the environment; null without NATS_URL (events stay in the database). */
export function eventStreamFromEnv(env: NodeJS.ProcessEnv): EventStreamSettings | null {
  const natsUrl = env["NATS_URL"]?.trim();
  if (!natsUrl) return null;
  const servers = natsUrl.split(",").map((s) => s.trim());
  if (servers.some((s) => !/^(nats|tls):\/\/[^\s/]+\/?$/.test(s)))
    throw new ConfigError("NATS_URL", "NATS_URL must be nats://host:port (or several, comma-separated)");
  const stream = env["MPAY_NATS_STREAM"] || "MPAY_EVENTS";
  if (!STREAM_NAME.test(stream))
    throw new ConfigError("MPAY_NATS_STREAM", "MPAY_NATS_STREAM must be letters, digits, _ or - (at most 64)");
  const subjectPrefix = env["MPAY_NATS_SUBJECT_PREFIX"] || "mpay.events";
  if (!SUBJECT_PREFIX.test(subjectPrefix))
    throw new ConfigError("MPAY_NATS_SUBJECT_PREFIX", "MPAY_NATS_SUBJECT_PREFIX must be dot-separated tokens");
  return { natsUrl, stream, subjectPrefix, publishTimeoutMs: 2_000 };
}

/** What the relay publishes of one event row. */
export interface StreamEvent {
  id: string;
  merchantId: string;
  mode: "test" | "live";
  type: string;
  data: Record<string, unknown>;
  createdAt: Date;
}

/** `<prefix>.<mode>.<merchant>.<type>`: a consumer filters one merchant (`*.mch_….>`) or one type (`*.*.refund.>`). */
export function subjectOf(prefix: string, e: Pick<StreamEvent, "mode" | "merchantId" | "type">): string {
  return `${prefix}.${e.mode}.${e.merchantId}.${e.type}`;
}

export class EventStreamPublisher {
  #connection: NatsConnection | null = null;
  #js: JetStreamClient | null = null;
  /** False while the client reconnects: the relay then claims nothing, rather than hold row locks on a wait. */
  #up = false;

  constructor(readonly settings: EventStreamSettings) {}

  /** Publishes one event; resolves with the server's ack (`duplicate`: it already had this event id). */
  async publish(e: StreamEvent): Promise<{ duplicate: boolean }> {
    const js = await this.ready();
    const ack = await js.publish(
      subjectOf(this.settings.subjectPrefix, e),
      eventBody({
        eventId: e.id,
        eventType: e.type,
        eventCreatedAt: e.createdAt.toISOString(),
        mode: e.mode,
        eventData: e.data,
      }),
      { msgID: e.id, timeout: this.settings.publishTimeoutMs, expect: { streamName: this.settings.stream } },
    );
    return { duplicate: ack.duplicate };
  }

  /**
   * Connected and the stream exists; throws while NATS cannot be reached (the relay backs off and asks again).
   * The relay asks before it opens its transaction, so an outage costs no database connection time.
   */
  async ready(): Promise<JetStreamClient> {
    if (this.#js && this.#connection && !this.#connection.isClosed()) {
      if (!this.#up) throw new Error("NATS connection lost; the client is reconnecting");
      return this.#js;
    }
    const connection = await connect({
      servers: this.settings.natsUrl.split(",").map((s) => s.trim()),
      name: "mpay-pay-events-relay",
      timeout: 2_000,
      // Once connected the client reconnects by itself; publishes meanwhile time out and the batch is retried.
      maxReconnectAttempts: -1,
      reconnectTimeWait: 1_000,
    });
    try {
      const manager = await jetstreamManager(connection);
      // An existing stream is the operator's: its settings are left as they are (docs/operations.md).
      await manager.streams.info(this.settings.stream).catch(async (error: unknown) => {
        if (!(error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound)) throw error;
        await manager.streams.add({
          name: this.settings.stream,
          subjects: [`${this.settings.subjectPrefix}.>`],
          duplicate_window: nanos(DUPLICATE_WINDOW_MS),
        });
      });
    } catch (error) {
      await connection.close();
      throw error;
    }
    this.#connection = connection;
    this.#js = jetstream(connection);
    this.#up = true;
    void this.#watch(connection);
    return this.#js;
  }

  async #watch(connection: NatsConnection): Promise<void> {
    for await (const status of connection.status()) {
      if (status.type === "disconnect" || status.type === "reconnecting") this.#up = false;
      else if (status.type === "reconnect") this.#up = true;
    }
  }

  async close(): Promise<void> {
    const connection = this.#connection;
    this.#connection = null;
    this.#js = null;
    await connection?.close();
  }
}
