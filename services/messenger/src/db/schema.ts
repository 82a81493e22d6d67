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
 */
import { index, jsonb, pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";
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
