/**
 * The key providers' own tables (re-exported by db/schema.ts, so drizzle-kit and the typed client see them).
 * None of them holds a key in clear, a share or a PIN: a dump of them is useless without the HSM or M custodians.
 */
import { sql } from "drizzle-orm";
import { check, integer, pgTable, smallint, text, timestamp } from "drizzle-orm/pg-core";
import type { KeyProviderKind } from "./provider.ts";

const createdAt = () => timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow();

/**
 * The key version that new seals and MACs use, per provider kind. It lives in the shared database, not in each
 * process, so that after `mpay vault rotate` every pay-server process seals with the new version within a second
 * or two (they re-read it on a short cache), which is what lets the re-seal pass finish with no row left behind.
 * Rotations take this row's lock, so two of them never pick the same version number.
 */
export const keyVersions = pgTable("key_versions", {
  provider: text("provider").$type<KeyProviderKind>().primaryKey(),
  currentVersion: integer("current_version").notNull(),
  updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
});

/**
 * The shamir vault's public parameters (M of N) and the check value that tells a right master key from a wrong
 * one (an HMAC of a fixed label under a key derived from it). Never a share, never the key. One row.
 */
export const vaultCustody = pgTable(
  "vault_custody",
  {
    id: text("id").primaryKey(),
    threshold: smallint("threshold").notNull(),
    shares: smallint("shares").notNull(),
    checkValue: text("check_value").notNull(),
    createdAt: createdAt(),
  },
  (t) => [check("vault_custody_one_row", sql`${t.id} = 'main'`), check("vault_custody_threshold", sql`${t.threshold} >= 2 and ${t.threshold} <= ${t.shares}`)],
);

/**
 * The shamir vault's key versions: each a random 256-bit key, AES-GCM-sealed under a key derived from the master
 * key (which exists only in the memory of unsealed processes). Rotation adds a row; the master key stays the same,
 * so rotating needs no new custodian shares, and re-splitting the master key would re-seal only these rows.
 */
export const vaultKeyring = pgTable("vault_keyring", {
  version: integer("version").primaryKey(),
  sealedKey: text("sealed_key").notNull(),
  createdAt: createdAt(),
});
