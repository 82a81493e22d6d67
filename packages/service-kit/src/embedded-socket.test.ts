/**
 * The owner's PGlite and the commands on its socket are one PostgreSQL session (embedded-socket.ts): these pin
 * that they still take turns by whole transactions. Without the gate, the first test fails: the owner's insert
 * runs inside the client's open transaction and vanishes with its ROLLBACK.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { serveOnSocket, type SocketShare } from "./embedded-socket.ts";

describe("a PGlite session shared on a socket [pglite]", () => {
  let dir: string;
  let db: PGlite;
  let share: SocketShare;
  const clients: pg.Client[] = [];
  const connect = async () => {
    const client = new pg.Client({ host: dir, port: 5432, user: "postgres", database: "postgres" });
    await client.connect();
    clients.push(client);
    return client;
  };
  const values = async () => (await db.query<{ v: string }>("select v from t order by v")).rows.map((r) => r.v);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "kit-socket-"));
    db = await PGlite.create("memory://");
    await db.exec("create table t (v text)");
    share = await serveOnSocket(db, join(dir, ".s.PGSQL.5432"));
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.end().catch(() => {})));
    await share?.stop();
    await db?.close();
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    await db.exec("delete from t");
  });

  it("keeps the owner's statements out of a client's open transaction", async () => {
    const client = await connect();
    await client.query("begin");
    await client.query("insert into t values ('client')");
    // The owner's autocommit insert waits for the client's transaction instead of joining it.
    const owner = db.query("insert into t values ('owner')");
    await sleep(200);
    await client.query("rollback");
    await owner;
    expect(await values()).toEqual(["owner"]);
  });

  it("keeps a client's statements out of the owner's open transaction", async () => {
    const client = await connect();
    let clientDone = false;
    await expect(
      db.transaction(async (tx) => {
        await tx.query("insert into t values ('owner')");
        void client.query("insert into t values ('client')").then(() => (clientDone = true));
        await sleep(200);
        expect(clientDone).toBe(false); // it waits for the owner's transaction
        throw new Error("roll back");
      }),
    ).rejects.toThrow("roll back");
    while (!clientDone) await sleep(20);
    expect(await values()).toEqual(["client"]);
  });

  it("gives every statement its own answer when owner and clients query at once", async () => {
    const pool = new pg.Pool({ host: dir, port: 5432, user: "postgres", database: "postgres", max: 3 });
    const answers = await Promise.all(
      Array.from({ length: 60 }, async (_, i) => {
        const n = String(i);
        if (i % 3 === 0) return (await db.query<{ n: string }>("select $1::text as n", [n])).rows[0]?.n === n;
        return (await pool.query<{ n: string }>("select $1::text as n", [n])).rows[0]?.n === n;
      }),
    );
    await pool.end();
    expect(answers.every(Boolean)).toBe(true);
  });

  it("rolls back a client that leaves inside a transaction, and the owner goes on", async () => {
    const client = new pg.Client({ host: dir, port: 5432, user: "postgres", database: "postgres" });
    await client.connect();
    await client.query("begin");
    await client.query("insert into t values ('left')");
    await client.end();
    await db.query("insert into t values ('owner')");
    expect(await values()).toEqual(["owner"]);
    const next = await connect();
    expect((await next.query<{ one: number }>("select 1 as one")).rows).toEqual([{ one: 1 }]);
  });
});
