/**
 * The key providers' own tables (drizzle.config.ts reads every context's schema.ts as one schema).
 * None of them holds a key in clear, a share or a PIN: a dump of them is useless without the HSM or M custodians.
 */
import { sql } from "drizzle-orm";
import { check, index, integer, pgTable, primaryKey, smallint, text, timestamp } from "drizzle-orm/pg-core";
import { createdAt } from "../db/columns.ts";
import type { KeyProviderKind } from "./provider.ts";

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
 *
 * It describes the current share set: `mpay vault rekey` replaces the master key and its shares, bumping
 * `generation` and naming the new set (`share_set`, written into each of its shares, so a share of a replaced
 * set is refused on its own). `share_set` is null for a set made before sets were named (`mpvs1_` shares).
 * `rekey_version` is set while a rekey's re-seal is unfinished: the key version every row must reach before the
 * versions made under the replaced master are deleted.
 */
export const vaultCustody = pgTable(
  "vault_custody",
  {
    id: text("id").primaryKey(),
    threshold: smallint("threshold").notNull(),
    shares: smallint("shares").notNull(),
    checkValue: text("check_value").notNull(),
    createdAt: createdAt(),
    generation: integer("generation").notNull().default(1),
    shareSet: text("share_set"),
    rekeyVersion: integer("rekey_version"),
  },
  (t) => [
    check("vault_custody_one_row", sql`${t.id} = 'main'`),
    check("vault_custody_threshold", sql`${t.threshold} >= 2 and ${t.threshold} <= ${t.shares}`),
  ],
);

/**
 * The shamir vault's key versions: each a random 256-bit key, AES-GCM-sealed under a key derived from the master
 * key (which exists only in the memory of unsealed processes). Rotation adds a row; the master key stays the same,
 * so rotating needs no new custodian shares. `generation` names the master key (the share set) a row is sealed
 * under: a rekey writes the versions under the new master and deletes the old master's rows (shamir/shamir-rekey.ts).
 */
export const vaultKeyring = pgTable(
  "vault_keyring",
  {
    version: integer("version").notNull(),
    sealedKey: text("sealed_key").notNull(),
    createdAt: createdAt(),
    generation: integer("generation").notNull().default(1),
  },
  (t) => [primaryKey({ columns: [t.generation, t.version] })],
);

/**
 * Share sets that `mpay vault rekey` replaced, so that a custodian who kept one is told plainly that it was
 * retired (`vault_share_retired`) instead of being asked for more shares. Public ids only, never a check value.
 */
export const vaultRetiredShareSets = pgTable("vault_retired_share_sets", {
  generation: integer("generation").primaryKey(),
  shareSet: text("share_set"),
  retiredAt: timestamp("retired_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
});

/**
 * The shamir processes that hold the master key right now, each with a public key (X25519) whose private half
 * lives only in that process's memory. A rekey delivers the new master key to each of them, encrypted to that
 * key and bound to the old master key, so that they move to the new share set without stopping, while a copy of
 * the database, even with the old shares, cannot open what was delivered (shamir/shamir-processes.ts).
 */
export const vaultProcesses = pgTable(
  "vault_processes",
  {
    id: text("id").primaryKey(),
    publicKey: text("public_key").notNull(),
    generation: integer("generation").notNull(),
    seenAt: timestamp("seen_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    deliveredMaster: text("delivered_master"),
    deliveredGeneration: integer("delivered_generation"),
  },
  (t) => [index("vault_processes_generation").on(t.generation)],
);

/**
 * Secrets the server needs in clear at run time but must not keep in clear at rest (the OPAQUE server setup, whose
 * OPRF seed is what makes PIN records uncrackable offline): stored here only sealed by the key provider, so every
 * pay-server process shares one value and a dump without the provider's key is useless.
 */
export const providerSecrets = pgTable("provider_secrets", {
  name: text("name").primaryKey(),
  sealed: text("sealed").notNull(),
  createdAt: createdAt(),
});
