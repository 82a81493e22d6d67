/**
 * One owner per PGlite folder: a second opener is refused with an error naming the folder and the holder; a
 * command (`joinRunning`) works through the owner's socket and sees its rows both ways; a lock left by a dead
 * process is taken over; with no owner, a command opens the folder itself.
 */
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, queryRows, type Database } from "./database.ts";
import { DatabaseFolderInUseError, folderHolder } from "./embedded-database.ts";
import { LOCK_FILE } from "./folder-lock.ts";

const schema = {};
const SLOW = 240_000; // several PGlite starts, seconds each on a busy machine
type Db = Database<typeof schema>;

/** The pid of a process that has ended. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  return Number(child.stdout);
}

describe("an embedded database folder has one owner [pglite]", () => {
  let root: string;
  const open: Db[] = [];
  const track = (database: Db) => (open.push(database), database);

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "kit-owner-"));
  });
  afterAll(async () => {
    for (const database of open.reverse()) await database.close().catch(() => {});
    await rm(root, { recursive: true, force: true });
  });

  it(
    "refuses a second owner, lets a command join through the socket, and frees the folder at close",
    async () => {
      const dataDir = join(root, "shared");
      const owner = track(await openDatabase({ schema, dataDir, owner: "the test server" }));
      expect(owner.kind).toBe("pglite");
      await owner.db.execute(sql.raw("create table t (v text)"));
      await owner.share?.();

      const refused = await openDatabase({ schema, dataDir, owner: "a second server" }).catch(
        (error: unknown) => error,
      );
      expect(refused).toBeInstanceOf(DatabaseFolderInUseError);
      const message = (refused as Error).message;
      expect(message).toContain(dataDir);
      expect(message).toContain(`the test server (pid ${process.pid}`);
      expect(message).toContain("Stop that process first");

      const command = await openDatabase({ schema, dataDir, owner: "the test CLI", joinRunning: true });
      expect(command.kind).toBe("postgres");
      await command.db.execute(sql.raw("insert into t values ('from the command')"));
      await owner.db.execute(sql.raw("insert into t values ('from the owner')"));
      const seen = async (database: Db) =>
        (await queryRows<{ v: string }>(database.db, sql.raw("select v from t order by v"))).map((r) => r.v);
      expect(await seen(owner)).toEqual(["from the command", "from the owner"]);
      expect(await seen(command)).toEqual(["from the command", "from the owner"]);
      await command.close();
      expect((await folderHolder(dataDir))?.owner).toBe("the test server");

      await owner.close();
      open.splice(open.indexOf(owner), 1);
      expect(await folderHolder(dataDir)).toBeUndefined();
      // Nothing runs: the command opens the folder itself, and finds what was written.
      const alone = track(await openDatabase({ schema, dataDir, owner: "the test CLI", joinRunning: true }));
      expect(alone.kind).toBe("pglite");
      expect(await seen(alone)).toEqual(["from the command", "from the owner"]);
      expect((await folderHolder(dataDir))?.owner).toBe("the test CLI");
    },
    SLOW,
  );

  it(
    "takes over a lock whose process is dead",
    async () => {
      const dataDir = join(root, "stale");
      const first = await openDatabase({ schema, dataDir, owner: "the test server" });
      await first.close();
      const pid = deadPid();
      const stale = {
        pid,
        host: hostname(),
        owner: "a crashed server",
        since: "2026-01-01T00:00:00.000Z",
        socket: join(dataDir, ".s.PGSQL.5432"),
        token: "stale",
      };
      await writeFile(join(dataDir, LOCK_FILE), JSON.stringify(stale));
      expect(await folderHolder(dataDir)).toBeUndefined();

      const taken = track(await openDatabase({ schema, dataDir, owner: "the test server" }));
      const record = JSON.parse(await readFile(join(dataDir, LOCK_FILE), "utf8")) as { pid: number; owner: string };
      expect(record).toMatchObject({ pid: process.pid, owner: "the test server" });
      expect((await queryRows<{ one: number }>(taken.db, sql.raw("select 1 as one")))[0]?.one).toBe(1);
    },
    SLOW,
  );
});
