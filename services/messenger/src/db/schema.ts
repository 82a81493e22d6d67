/**
 * The messenger's own tables (DESIGN.md: each service owns its database; none reads another's tables).
 *
 * - `accounts`: messenger accounts. `id` is the OpenID Connect subject (`sub`): opaque, stable, never the phone.
 * - `oidc_models`: everything oidc-provider persists (sessions, interactions, grants, codes, access tokens), one
 *   row per model instance, with its expiry. Rows are keyed by a SHA-256 of the instance id, because for codes,
 *   tokens and sessions the id *is* the bearer value: a copy of this table lets nobody redeem them.
 * - `provider_secrets`: the provider's signing keys (JWKS) and cookie keys, made on first start and shared by every
 *   process on the same database.
 * - `login_attempt_slots`: sign-in attempts per phone number and per IP address, so limits hold across processes.
 * - `app_sessions`: the messenger app's sessions (`POST /api/sessions`), keyed by a SHA-256 of the bearer token.
 * - `official_messages`: messages official accounts (MPay) sent to an account, idempotent on the sender's id.
 *
 * The app's friends and chats keep their tables beside their code (friends/schema.ts, chats/schema.ts); drizzle-kit
 * reads every context's `schema.ts` (`src/<folder>/schema.ts`) into one schema and one migration history.
 */
import { sql } from "drizzle-orm";
import { bigserial, index, jsonb, pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";
import { limitSlotsTable } from "@mpay/service-kit";

const timestamptz = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

export const accounts = pgTable("accounts", {
  id: text("id").primaryKey(),
  /** E.164 (`+821012345678`), normalized before it is stored, so equality is string equality. */
  phoneNumber: text("phone_number").notNull().unique("accounts_phone_number"),
  displayName: text("display_name").notNull(),
  /** `scrypt$N$r$p$salt$hash` (base64url); see accounts/passwords.ts. */
  passwordHash: text("password_hash").notNull(),
  /**
   * When the phone number was verified. A real messenger sets it after an SMS code; this simulator has no SMS
   * and treats the number as verified at sign-up (see README).
   */
  phoneVerifiedAt: timestamptz("phone_verified_at"),
  createdAt: timestamptz("created_at").notNull().defaultNow(),
});

export const oidcModels = pgTable(
  "oidc_models",
  {
    /** oidc-provider's model name: Session, Interaction, Grant, AuthorizationCode, AccessToken, … */
    model: text("model").notNull(),
    id: text("id").notNull(),
    payload: jsonb("payload").$type<Record<string, unknown>>().notNull(),
    grantId: text("grant_id"),
    /** Session uid (oidc-provider looks sessions up by it). */
    uid: text("uid"),
    userCode: text("user_code"),
    /** Null for instances without expiry. Expired rows are never returned and are swept periodically. */
    expiresAt: timestamptz("expires_at"),
    consumedAt: timestamptz("consumed_at"),
  },
  (t) => [
    primaryKey({ name: "oidc_models_pkey", columns: [t.model, t.id] }),
    index("oidc_models_grant").on(t.grantId),
    index("oidc_models_uid").on(t.model, t.uid),
    index("oidc_models_user_code").on(t.model, t.userCode),
    index("oidc_models_expires").on(t.expiresAt),
  ],
);

export const providerSecrets = pgTable("provider_secrets", {
  name: text("name").primaryKey(),
  value: jsonb("value").notNull(),
  createdAt: timestamptz("created_at").notNull().defaultNow(),
});

/**
 * Sign-in attempts claimed per `phone:<sha256>` and `ip:<sha256>` (kind `attempt`), one row each, before the
 * password is checked (signin/throttle.ts, over service-kit's LimitSlots); hashed so that numbers people mistyped
 * are not kept in clear.
 */
export const loginAttemptSlots = limitSlotsTable("login_attempt_slots");

/**
 * The messenger app's sessions. The bearer token (`mss_` and 256 random bits) is never stored: the key is its
 * SHA-256, so a copy of this table signs nobody in. Expired rows are refused at once and swept later.
 */
export const appSessions = pgTable(
  "app_sessions",
  {
    tokenHash: text("token_hash").primaryKey(),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id),
    expiresAt: timestamptz("expires_at").notNull(),
    createdAt: timestamptz("created_at").notNull().defaultNow(),
  },
  (t) => [index("app_sessions_account").on(t.accountId), index("app_sessions_expires").on(t.expiresAt)],
);

/**
 * Messages from official accounts to one account. `id` is the sender's (its idempotency key: a resend finds the
 * row); `seq` is the order of arrival, which the account's list follows (a notice delivered late, after the
 * messenger was down, is still the newest thing the account has not seen).
 */
export const officialMessages = pgTable(
  "official_messages",
  {
    id: text("id").primaryKey(),
    seq: bigserial("seq", { mode: "number" }).notNull().unique("official_messages_seq"),
    /** The official account's handle (`mpay`). */
    sender: text("sender").notNull(),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id),
    kind: text("kind").notNull(),
    text: text("text").notNull(),
    actions: jsonb("actions").$type<Array<{ label: string; action: string }>>().notNull(),
    /** The sender's facts for its own client to render (official-message.ts); null when it sent none. */
    params: jsonb("params").$type<Record<string, string | number>>(),
    /** The sender's time of the message. */
    createdAt: timestamptz("created_at").notNull(),
    receivedAt: timestamptz("received_at").notNull().defaultNow(),
    readAt: timestamptz("read_at"),
  },
  (t) => [
    index("official_messages_account").on(t.accountId, t.seq),
    index("official_messages_unread").on(t.accountId).where(sql`read_at is null`),
  ],
);
