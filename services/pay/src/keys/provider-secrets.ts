/**
 * Long-lived server secrets kept by the key provider (DESIGN.md: "the same provider holds the OPAQUE server
 * setup"). The value is made once, sealed by the provider and stored in the shared database, so that every
 * pay-server process uses the same one and a database dump alone holds only ciphertext: without the provider's
 * key, nothing that depends on it works (every PIN login fails) and nothing can be tested offline.
 */
import { eq, like, or } from "drizzle-orm";
import { Secret } from "@mpay/protocol";
import type { Db } from "../db/client.ts";
import { providerSecrets } from "./schema.ts";
import type { KeyProvider } from "./provider.ts";
import { sealedColumnResealer } from "./reseal.ts";

/**
 * `issuer-statement-key`: the ES256 key the pay server signs PIN statements to the issuers with; after a rotation
 * the newer ones are `issuer-statement-key-<generation>` (issuers/statement-keys.ts).
 * `audit-head-seed`: the shamir provider's audit head key seed (it must outlive a rekey, which deletes key versions).
 */
export type ProviderSecretName =
  | "opaque-server-setup"
  | "issuer-statement-key"
  | `issuer-statement-key-${number}`
  | "audit-head-seed";

/** The AAD a provider secret is sealed with: its row's name (providerSecretResealer re-seals with the same one). */
export function providerSecretAad(name: string): string {
  return `provider-secret|${name}`;
}

/** `mpay vault rotate` for the provider's own secrets (reseal.ts explains the pattern). */
export const providerSecretResealer = sealedColumnResealer({
  table: "provider_secrets",
  key: ["name"],
  column: "sealed",
  purpose: "provider-secret",
  aad: (r) => providerSecretAad(r.name),
});

export async function providerSecret(
  db: Db,
  keys: KeyProvider,
  name: ProviderSecretName,
  create: () => string,
): Promise<Secret<string>> {
  const aad = providerSecretAad(name);
  const existing = await db.select().from(providerSecrets).where(eq(providerSecrets.name, name));
  let sealed = existing[0]?.sealed;
  if (!sealed) {
    const fresh = await keys.seal("provider-secret", new TextEncoder().encode(create()), aad);
    // Two processes starting together may both make one: the first insert wins and both use the stored value.
    await db.insert(providerSecrets).values({ name, sealed: fresh }).onConflictDoNothing();
    const [row] = await db.select().from(providerSecrets).where(eq(providerSecrets.name, name));
    sealed = row!.sealed;
  }
  const opened = await keys.open("provider-secret", sealed, aad);
  const value = new TextDecoder().decode(opened);
  opened.fill(0);
  return new Secret(value);
}

/** The names stored of a family of secrets: `base` itself and `base-<anything>` (statement key generations). */
export async function providerSecretNames(db: Db, base: ProviderSecretName): Promise<string[]> {
  const rows = await db
    .select({ name: providerSecrets.name })
    .from(providerSecrets)
    .where(or(eq(providerSecrets.name, base), like(providerSecrets.name, `${base}-%`)));
  return rows.map((row) => row.name);
}
