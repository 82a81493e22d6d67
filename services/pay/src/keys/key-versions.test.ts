import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrateDatabase, openDatabase, type Database } from "../db/client.ts";
import { freshDatabase, testBackends, type FreshDatabase } from "../testing/databases.ts";
import { openDevKeyProvider } from "./dev/dev-provider.ts";
import { SharedKeyVersion } from "./key-versions.ts";

describe.each(testBackends())("shared key version [%s]", (backend) => {
  let fresh: FreshDatabase;
  let database: Database;
  let dir: string;
  beforeAll(async () => {
    fresh = await freshDatabase(backend);
    database = await openDatabase({ url: fresh.url });
    await migrateDatabase(database);
    dir = await mkdtemp(join(tmpdir(), "mpay-versions-"));
  });
  afterAll(async () => {
    await database.close();
    await fresh.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it("concurrent rotations in several processes get distinct versions; a failed one records nothing", async () => {
    const a = await SharedKeyVersion.open(database.db, "pkcs11");
    const b = await SharedKeyVersion.open(database.db, "pkcs11");
    expect(a.get()).toBeNull();
    const next = (shared: SharedKeyVersion) => shared.advance(async (_tx, recorded) => (recorded ?? 0) + 1);
    expect((await Promise.all([next(a), next(b), next(a), next(b)])).sort()).toEqual([1, 2, 3, 4]);
    await expect(
      a.advance(async () => {
        throw new Error("the HSM said no");
      }),
    ).rejects.toThrow(/HSM said no/);
    await expect(a.advance(async () => 2)).rejects.toThrow(/not above/);
    const c = await SharedKeyVersion.open(database.db, "pkcs11");
    expect(c.get()).toBe(4);
    await b.refresh();
    expect(b.get()).toBe(4);
    // Each kind has its own record.
    expect((await SharedKeyVersion.open(database.db, "shamir")).get()).toBeNull();
    for (const s of [a, b, c]) s.close();
  });

  it("dev: a rotation by one process reaches another on the same key file within the refresh time", async () => {
    const file = join(dir, "dev-keys.json");
    const a = await openDevKeyProvider({ keyFile: file, db: database.db, log: () => undefined });
    const b = await openDevKeyProvider({ keyFile: file, db: database.db, log: () => undefined });
    const old = await b.seal("webhook-secret", Buffer.from("old"), "row");
    expect(await a.rotate()).toBe(2);
    await expect.poll(() => b.currentKeyVersion(), { timeout: 5000, interval: 100 }).toBe(2);
    const fresh = await b.seal("webhook-secret", Buffer.from("new"), "row");
    expect(fresh.startsWith("mk1.2.")).toBe(true);
    expect(Buffer.from(await a.open("webhook-secret", fresh, "row")).toString()).toBe("new");
    expect(Buffer.from(await a.open("webhook-secret", old, "row")).toString()).toBe("old");
    expect(await b.rotate()).toBe(3);
    await a.close();
    await b.close();
  });
});
