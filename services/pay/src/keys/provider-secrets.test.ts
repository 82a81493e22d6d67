import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as opaque from "@serenity-kit/opaque";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrateDatabase, openDatabase, type Database } from "../db/client.ts";
import { providerSecrets } from "./schema.ts";
import { openDevKeyProvider } from "./dev/dev-provider.ts";
import { openPkcs11KeyProvider } from "./pkcs11/pkcs11-provider.ts";
import { providerSecret, providerSecretAad } from "./provider-secrets.ts";
import type { KeyProvider, KeyProviderKind } from "./provider.ts";
import { openShamirKeyProvider } from "./shamir/shamir-provider.ts";
import { createSoftHsmToken, softHsmAvailable, type SoftHsmToken } from "./pkcs11/softhsm-fixture.ts";

/**
 * DESIGN.md: "the same provider holds the OPAQUE server setup (OPRF seed)", so a stolen database cannot test PIN
 * guesses. The setup is a provider_secrets row sealed by whichever provider runs (pin/service.ts asks for it by
 * this name): checked here for each of the three, with a vault of another key as the thief's.
 */
const KINDS: KeyProviderKind[] =
  softHsmAvailable() || process.env["CI"] ? ["dev", "shamir", "pkcs11"] : ["dev", "shamir"];

let dir: string;
let tokens: { vault: SoftHsmToken; other: SoftHsmToken } | null = null;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "mpay-provider-secrets-"));
  if (KINDS.includes("pkcs11")) {
    const vault = await createSoftHsmToken("mpay-setup");
    tokens = { vault, other: await createSoftHsmToken("thief", vault) };
    process.env["SOFTHSM2_CONF"] = vault.conf; // read by the library when its first session opens
  }
  await opaque.ready;
});
afterAll(async () => {
  await tokens?.vault.remove();
  await rm(dir, { recursive: true, force: true });
});

/** A provider of `kind` with a key of its own, ready to seal, on `database`; `which` picks the vault's or another. */
async function openProvider(kind: KeyProviderKind, database: Database, which: "vault" | "other"): Promise<KeyProvider> {
  switch (kind) {
    case "dev":
      return openDevKeyProvider({
        keyFile: join(dir, `${which}-dev-keys.json`),
        db: database.db,
        log: () => undefined,
      });
    case "pkcs11": {
      const keys = await openPkcs11KeyProvider(tokens![which].settings, database.db);
      if (which === "vault") await keys.initialize();
      return keys;
    }
    case "shamir": {
      const keys = await openShamirKeyProvider(database.db);
      await keys.initialize(2, 2);
      return keys;
    }
  }
}

describe.each(KINDS)("the OPAQUE server setup is kept under the %s provider [pglite]", (kind) => {
  let database: Database;
  let thiefDatabase: Database;
  let keys: KeyProvider;

  beforeAll(async () => {
    [database, thiefDatabase] = await Promise.all([openDatabase({}), openDatabase({})]);
    await Promise.all([migrateDatabase(database), migrateDatabase(thiefDatabase)]);
    keys = await openProvider(kind, database, "vault");
  });
  afterAll(async () => {
    await keys.close();
    await database.close();
    await thiefDatabase.close();
  });

  it("is stored only sealed by the provider, opens with it, and with no other key", async () => {
    const setup = (
      await providerSecret(database.db, keys, "opaque-server-setup", () => opaque.server.createSetup())
    ).peek();
    const [row] = await database.db
      .select()
      .from(providerSecrets)
      .where(eq(providerSecrets.name, "opaque-server-setup"));
    expect(row!.sealed).toMatch(/^mk1\.1\./);
    expect(row!.sealed).not.toContain(setup.slice(0, 24));
    expect(row!.sealed).not.toContain(Buffer.from(setup, "base64url").toString("hex").slice(0, 24));
    // Asked again (another login, another process), the stored value is what comes back: never a fresh setup.
    expect((await providerSecret(database.db, keys, "opaque-server-setup", () => "not used")).peek()).toBe(setup);

    // The thief's own vault of the same kind (another key file, another HSM, another custodians' key) opens nothing.
    const thief = await openProvider(kind, thiefDatabase, "other");
    try {
      if (kind === "pkcs11") await (thief as Awaited<ReturnType<typeof openPkcs11KeyProvider>>).initialize();
      const refused = await thief.open("provider-secret", row!.sealed, providerSecretAad("opaque-server-setup")).then(
        () => null,
        (error: unknown) => error as { code?: string },
      );
      expect(["seal_invalid", "key_version_unknown"]).toContain(refused?.code);
    } finally {
      await thief.close();
    }
  });
});
