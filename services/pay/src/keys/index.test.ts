import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Secret } from "@mpay/protocol";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { migrateDatabase, openDatabase, type Database } from "../db/client.ts";
import { DEFAULT_PKCS11_SETTINGS, openKeyProvider } from "./index.ts";
import { KeyProviderError } from "./provider.ts";

let dataDir: string;
let database: Database;
beforeAll(async () => {
  database = await openDatabase({});
  await migrateDatabase(database);
});
afterAll(async () => {
  await database.close();
});
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "mpay-keys-"));
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

async function refusal(promise: Promise<unknown>): Promise<KeyProviderError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(KeyProviderError);
  return error as KeyProviderError;
}

describe("openKeyProvider", () => {
  it("opens the dev provider on <dataDir>/dev-keys.json", async () => {
    const provider = await openKeyProvider({ kind: "dev", dataDir, db: database.db, log: () => undefined });
    expect(provider.kind).toBe("dev");
    expect(provider.isSealed()).toBe(false);
    expect((await stat(join(dataDir, "dev-keys.json"))).isFile()).toBe(true);
    expect(await provider.status()).toEqual({
      kind: "dev",
      initialized: true,
      sealed: false,
      currentKeyVersion: 1,
      keyVersions: [1],
    });
    await provider.close();
  });

  it("opens the shamir provider sealed", async () => {
    const provider = await openKeyProvider({ kind: "shamir", dataDir, db: database.db });
    expect(provider.kind).toBe("shamir");
    expect(provider.isSealed()).toBe(true);
    expect(provider.unsealer).toBeDefined();
    await provider.close();
  });

  it("refuses pkcs11 without a PIN, a library or a token, naming the variable to fix and never the PIN", async () => {
    const noPin = await refusal(
      openKeyProvider({ kind: "pkcs11", dataDir, db: database.db, pkcs11: DEFAULT_PKCS11_SETTINGS }),
    );
    expect(noPin.code).toBe("provider_misconfigured");
    expect(noPin.message).toMatch(/MPAY_PKCS11_PIN/);
    const pin = new Secret("9137-secret-pin");
    const noLibrary = await refusal(
      openKeyProvider({
        kind: "pkcs11",
        dataDir,
        db: database.db,
        pkcs11: { ...DEFAULT_PKCS11_SETTINGS, library: join(dataDir, "missing.so"), pin },
      }),
    );
    expect(noLibrary.code).toBe("provider_misconfigured");
    expect(noLibrary.message).toMatch(/MPAY_PKCS11_LIBRARY/);
    expect(noLibrary.message).not.toContain("9137-secret-pin");
  });

  it("refuses an unknown kind", async () => {
    const error = await refusal(openKeyProvider({ kind: "vault" as "dev", dataDir, db: database.db }));
    expect(error.code).toBe("provider_misconfigured");
  });
});
