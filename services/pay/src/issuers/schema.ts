/**
 * The issuers context's own table: the network's certificates of this server's PIN-statement keys.
 */
import { index, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { createdAt } from "../db/columns.ts";

/**
 * The card network's certificates of this server's PIN-statement keys (`mpay statement-key install`; issue 7,
 * hole 6). Public, so stored in clear; the keys themselves stay in provider_secrets. Every statement carries the
 * certificate of the key that signed it, and issuers accept no other; two rows (old and new key) during a rollover.
 */
export const statementKeyCertificates = pgTable(
  "statement_key_certificates",
  {
    /** base64url SHA-256 of the certificate: installing the same one twice is one row. */
    id: text("id").primaryKey(),
    /** The certified key's RFC 7638 thumbprint. */
    kid: text("kid").notNull(),
    acquirerId: text("acquirer_id").notNull(),
    certificate: text("certificate").notNull(),
    notBefore: timestamp("not_before", { withTimezone: true, mode: "date" }).notNull(),
    notAfter: timestamp("not_after", { withTimezone: true, mode: "date" }).notNull(),
    installedAt: createdAt(),
  },
  (t) => [index("statement_key_certificates_kid").on(t.kid)],
);
