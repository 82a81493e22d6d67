/** Payers, their messenger sign-ins in progress and their sessions. */
import { index, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { createdAt } from "../db/columns.ts";

/** A payer: created on first messenger sign-in, linked to the messenger's stable subject. No other sign-up exists. */
export const payers = pgTable(
  "payers",
  {
    id: text("id").primaryKey(),
    messengerSubject: text("messenger_subject").notNull().unique(),
    displayName: text("display_name").notNull(),
    /** E.164, as the messenger's ID token says at the latest sign-in (the hosted checkout's push finds payers by it). */
    phoneNumber: text("phone_number"),
    createdAt: createdAt(),
  },
  (t) => [index("payers_phone_number").on(t.phoneNumber)],
);

/**
 * One sign-in in progress: the OIDC state, nonce and PKCE verifier (the pay server's, towards the messenger), and
 * the wallet's S256 challenge that the sign-in code will be bound to; single-use, for a few minutes.
 */
export const payerSignIns = pgTable("payer_sign_ins", {
  state: text("state").primaryKey(),
  nonce: text("nonce").notNull(),
  codeVerifier: text("code_verifier").notNull(),
  codeChallenge: text("code_challenge").notNull(),
  expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull(),
  createdAt: createdAt(),
});

/**
 * A finished sign-in waiting for the wallet's exchange: the one-time code (`plc_…`) stored only as its SHA-256,
 * bound to the wallet's S256 challenge, single-use, for two minutes. It opens a session only with the verifier.
 */
export const payerSignInCodes = pgTable("payer_sign_in_codes", {
  codeHash: text("code_hash").primaryKey(),
  payerId: text("payer_id")
    .notNull()
    .references(() => payers.id),
  codeChallenge: text("code_challenge").notNull(),
  expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull(),
  createdAt: createdAt(),
});

/** Payer sessions: an opaque bearer token of 256 bits, stored only as its SHA-256. */
export const payerSessions = pgTable(
  "payer_sessions",
  {
    tokenHash: text("token_hash").primaryKey(),
    payerId: text("payer_id")
      .notNull()
      .references(() => payers.id),
    expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [index("payer_sessions_payer").on(t.payerId)],
);
