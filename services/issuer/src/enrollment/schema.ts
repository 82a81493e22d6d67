/**
 * The enrollments' tables:
 * - `enrollments`: started enrollments waiting for their one-time code (a hash of it, never the code or the CVC).
 * - `enrollment_events`: failures and codes sent, per card (keyed hash of the PAN), device key and payer, for the
 *   enrollment limits.
 */
import { index, integer, jsonb, pgTable, text } from "drizzle-orm/pg-core";
import type { EcPublicJwk } from "@mpay/protocol";
import { limitSlotsTable } from "@mpay/service-kit";
import { timestamptz } from "../db/columns.ts";

export const enrollments = pgTable(
  "enrollments",
  {
    id: text("id").primaryKey(),
    cardRef: text("card_ref").notNull(),
    payerRef: text("payer_ref").notNull(),
    deviceKid: text("device_kid").notNull(),
    deviceJwk: jsonb("device_jwk").$type<EcPublicJwk>().notNull(),
    passkeys: jsonb("passkeys").$type<Array<{ id: string; publicKey: string }>>().notNull(),
    /** base64url SHA-256 of `<enrollment id>|<code>`. */
    codeHash: text("code_hash").notNull(),
    /** pending | verified | failed */
    status: text("status").notNull(),
    wrongCodes: integer("wrong_codes").notNull().default(0),
    createdAt: timestamptz("created_at").notNull(),
    expiresAt: timestamptz("expires_at").notNull(),
    finishedAt: timestamptz("finished_at"),
  },
  (t) => [index("enrollments_card").on(t.cardRef)],
);

/**
 * The enrollment limits' slots (`failure`, `code_sent`) per `card:<keyed hash of the PAN>`, `device:<kid>` and
 * `payer:<payerRef>`, claimed before each check (enrollment/limits.ts, over service-kit's LimitSlots).
 */
export const enrollmentEvents = limitSlotsTable("enrollment_events");
