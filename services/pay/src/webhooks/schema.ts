/** Events a merchant can list and receive, its webhook endpoints, and the delivery outbox. */
import { sql } from "drizzle-orm";
import { index, integer, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { createdAt } from "../db/columns.ts";
import { merchants } from "../merchants/schema.ts";

export const events = pgTable(
  "events",
  {
    id: text("id").primaryKey(),
    merchantId: text("merchant_id").notNull(),
    mode: text("mode").$type<"test" | "live">().notNull(),
    type: text("type").notNull(),
    data: jsonb("data").$type<Record<string, unknown>>().notNull(),
    /**
     * When the events relay had the event acknowledged by NATS JetStream (events-relay.ts); null while it waits,
     * and always without NATS_URL (the event lives in this table alone, as before).
     */
    publishedAt: timestamp("published_at", { withTimezone: true, mode: "date" }),
    createdAt: createdAt(),
  },
  (t) => [
    index("events_merchant_list").on(t.merchantId, t.mode, t.id),
    // The relay's queue: small while it keeps up, so claiming and counting stay cheap.
    index("events_unpublished").on(t.id).where(sql`published_at is null`),
    // A payment's timeline (store.ts eventsAboutPayment) finds its events by the payment they carry.
    index("events_payment").on(sql`(${t.data} -> 'payment' ->> 'id')`),
  ],
);

export const webhookEndpoints = pgTable(
  "webhook_endpoints",
  {
    id: text("id").primaryKey(),
    merchantId: text("merchant_id")
      .notNull()
      .references(() => merchants.id),
    mode: text("mode").$type<"test" | "live">().notNull(),
    url: text("url").notNull(),
    /** Event types this endpoint receives; `["*"]` for all. */
    enabledEvents: jsonb("enabled_events").$type<string[]>().notNull(),
    status: text("status").$type<"enabled" | "disabled">().notNull(),
    /** `whpk_…` Ed25519 public key when the endpoint asked for v1a signatures. */
    v1aPublicKey: text("v1a_public_key"),
    v1aSealedPrivateKey: text("v1a_sealed_private_key"),
    /** The merchant's own words for this endpoint (shown in the dashboard), plain text. */
    description: text("description"),
    /**
     * The endpoint's own `whsec_` signing secret, sealed by the key provider (AAD `webhookSecretAad`). Null for an
     * endpoint that signs with its merchant's account secret (merchants/webhook-secret.ts): the endpoints made
     * before secrets were per endpoint and the default endpoint of `mpay merchant create --webhook-url`. Nothing
     * changed for them; a rotation gives them a secret of their own.
     */
    sealedSecret: text("sealed_secret"),
    /** After a rotation the old secret still signs (a second `v1,` signature) until previousSecretExpiresAt. */
    previousSealedSecret: text("previous_sealed_secret"),
    previousSecretExpiresAt: timestamp("previous_secret_expires_at", { withTimezone: true, mode: "date" }),
    /**
     * The first failed attempt since the endpoint's last success (null while it answers): the clock that disables
     * an endpoint failing for days (endpoint-health.ts). Any success clears it.
     */
    failingSince: timestamp("failing_since", { withTimezone: true, mode: "date" }),
    /** When and why the endpoint was disabled: `merchant` (DELETE) or `auto_disabled` (failing for days). */
    disabledAt: timestamp("disabled_at", { withTimezone: true, mode: "date" }),
    disabledReason: text("disabled_reason").$type<"merchant" | "auto_disabled">(),
    createdAt: createdAt(),
  },
  (t) => [index("webhook_endpoints_merchant").on(t.merchantId, t.mode)],
);

/** The outbox: one row per (event, endpoint), written in the transaction of the change, holding delivery state. */
export const webhookDeliveries = pgTable(
  "webhook_deliveries",
  {
    id: text("id").primaryKey(),
    eventId: text("event_id")
      .notNull()
      .references(() => events.id),
    endpointId: text("endpoint_id")
      .notNull()
      .references(() => webhookEndpoints.id),
    merchantId: text("merchant_id").notNull(),
    status: text("status").$type<"pending" | "succeeded" | "failed">().notNull(),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: timestamp("next_attempt_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    /** While a worker sends, the row is leased; a worker killed mid-send leaves a lease that simply runs out. */
    leaseUntil: timestamp("lease_until", { withTimezone: true, mode: "date" }),
    lastStatusCode: integer("last_status_code"),
    lastError: text("last_error"),
    deliveredAt: timestamp("delivered_at", { withTimezone: true, mode: "date" }),
    createdAt: createdAt(),
  },
  (t) => [
    index("webhook_deliveries_due").on(t.nextAttemptAt).where(sql`status = 'pending'`),
    index("webhook_deliveries_endpoint").on(t.endpointId, t.status),
  ],
);
