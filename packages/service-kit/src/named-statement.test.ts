/**
 * Named statements run the same SQL on node-postgres (named: parsed once per connection, then bound) and on PGlite
 * (unnamed), in autocommit and in a transaction; through a PGlite holder's socket they go unnamed, so that two
 * connections (or two commands one after the other) in the holder's one session never collide on a name.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type Database } from "./database.ts";
import { namedStatement } from "./named-statement.ts";
import { freshDatabase, testBackends, type FreshDatabase } from "./test-databases.ts";

const schema = {};

const insertNote = namedStatement<{ id: number; body: string }>(
  "kit_test_insert_note",
  sql`insert into notes (body) values (${sql.placeholder("body")}) returning id, body`,
);
const countNotes = namedStatement<{ n: number }>(
  "kit_test_count_notes",
  sql`select count(*)::int4 as n from notes where body like ${sql.placeholder("prefix")} || '%'`,
);

describe.each(testBackends())("named statements [%s]", (backend) => {
  let fresh: FreshDatabase;
  let database: Database<typeof schema>;
  beforeAll(async () => {
    fresh = await freshDatabase(backend, "kit_named");
    database = await openDatabase({ schema, url: fresh.url, poolSize: 2 });
    await database.db.execute(sql.raw("create table notes (id serial primary key, body text not null)"));
  });
  afterAll(async () => {
    await database?.close();
    await fresh?.drop();
  });

  it("runs with each call's values, again and again, on every connection", async () => {
    const rows = await Promise.all(
      Array.from({ length: 6 }, (_, i) => insertNote.run(database.db, { body: `auto-${i}` })),
    );
    expect(rows.map((r) => r[0]?.body).sort()).toEqual(Array.from({ length: 6 }, (_, i) => `auto-${i}`));
    const [count] = await countNotes.run(database.db, { prefix: "auto-" });
    expect(Number(count?.n)).toBe(6);
  });

  it("runs inside a transaction, and rolls back with it", async () => {
    await database.db
      .transaction(async (tx) => {
        await insertNote.run(tx, { body: "tx-kept-not" });
        const [inside] = await countNotes.run(tx, { prefix: "tx-" });
        expect(Number(inside?.n)).toBe(1);
        throw new Error("roll back");
      })
      .catch(() => {});
    const [after] = await countNotes.run(database.db, { prefix: "tx-" });
    expect(Number(after?.n)).toBe(0);
  });

  it("refuses a second statement under a name already taken", () => {
    expect(() => namedStatement("kit_test_insert_note", sql`select 1`)).toThrow(/already taken/);
  });
});

describe("named statements through a PGlite holder's socket [pglite]", () => {
  let root: string;
  const open: Database<typeof schema>[] = [];
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "kit-named-"));
  });
  afterAll(async () => {
    for (const database of open.reverse()) await database.close().catch(() => {});
    await rm(root, { recursive: true, force: true });
  });

  it("go unnamed, so commands one after the other share the holder's session", async () => {
    const dataDir = join(root, "shared");
    const owner = await openDatabase({ schema, dataDir, owner: "the test server" });
    open.push(owner);
    await owner.db.execute(sql.raw("create table notes (id serial primary key, body text not null)"));
    await owner.share?.();
    for (const round of [1, 2]) {
      const command = await openDatabase({ schema, dataDir, owner: "the test CLI", joinRunning: true });
      expect(command.kind).toBe("postgres");
      await Promise.all([1, 2, 3].map((i) => insertNote.run(command.db, { body: `joined-${round}-${i}` })));
      await command.close();
    }
    const [count] = await countNotes.run(owner.db, { prefix: "joined-" });
    expect(Number(count?.n)).toBe(6);
  }, 240_000);
});
