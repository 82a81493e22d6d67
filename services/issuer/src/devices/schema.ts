/**
 * The devices' tables: `device_bindings` / `passkey_bindings`, the device keys (and passkeys) a cardholder bound at
 * enrollment; payments are verified against them. `revoked_devices`: keys unbound for good.
 */
import { bigint, index, jsonb, pgTable, primaryKey, text, uniqueIndex } from "drizzle-orm/pg-core";
import type { EcPublicJwk } from "@mpay/protocol";
import { timestamptz } from "../db/columns.ts";

export const deviceBindings = pgTable(
  "device_bindings",
  {
    id: text("id").primaryKey(),
    cardRef: text("card_ref").notNull(),
    /** RFC 7638 thumbprint of `device_jwk`: the `kid` of everything the device signs. */
    deviceKid: text("device_kid").notNull(),
    deviceJwk: jsonb("device_jwk").$type<EcPublicJwk>().notNull(),
    payerRef: text("payer_ref").notNull(),
    boundAt: timestamptz("bound_at").notNull(),
    unboundAt: timestamptz("unbound_at"),
  },
  (t) => [
    uniqueIndex("device_bindings_card_kid").on(t.cardRef, t.deviceKid),
    index("device_bindings_kid").on(t.deviceKid),
  ],
);

export const passkeyBindings = pgTable(
  "passkey_bindings",
  {
    cardRef: text("card_ref").notNull(),
    /** base64url credential id. */
    credentialId: text("credential_id").notNull(),
    /** The device binding it came with: unbinding that device unbinds it too. */
    bindingId: text("binding_id").notNull(),
    /** base64url COSE public key. */
    publicKey: text("public_key").notNull(),
    signCount: bigint("sign_count", { mode: "number" }).notNull().default(0),
    boundAt: timestamptz("bound_at").notNull(),
    unboundAt: timestamptz("unbound_at"),
  },
  (t) => [
    primaryKey({ name: "passkey_bindings_pkey", columns: [t.cardRef, t.credentialId] }),
    index("passkey_bindings_binding").on(t.bindingId),
  ],
);

export const revokedDevices = pgTable("revoked_devices", {
  deviceKid: text("device_kid").primaryKey(),
  revokedAt: timestamptz("revoked_at").notNull(),
});
