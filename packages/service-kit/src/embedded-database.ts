/**
 * An embedded (PGlite) database folder with one owner (issue 8). The process that opens a folder takes its lock
 * (folder-lock.ts), opens PGlite, and once migrated serves it on a Unix socket (embedded-socket.ts). An operator
 * command (`mpay`, `messenger`) that finds the folder held by a live process joins it: it connects to that
 * socket with node-postgres and works on the very database the server uses. A server that finds it held is
 * refused. When nothing holds the folder, the command opens it itself, holding the lock while it runs.
 */
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { PGlite } from "@electric-sql/pglite";
import {
  DatabaseFolderInUseError,
  isAlive,
  readHolder,
  takeFolderLock,
  type FolderHolder,
  type FolderLock,
} from "./folder-lock.ts";
import { serveOnSocket, type SocketShare } from "./embedded-socket.ts";

export { DatabaseFolderInUseError, type FolderHolder } from "./folder-lock.ts";

/** node-postgres finds a server's socket as `<directory>/.s.PGSQL.<port>`. */
const SOCKET_PORT = 5432;
const SOCKET_NAME = `.s.PGSQL.${SOCKET_PORT}`;
/** A Unix socket path has at most 107 bytes on Linux (103 on macOS); a longer folder serves from a temporary one. */
const SOCKET_PATH_MAX = 100;
/** How long a command waits for a holder that has not served its socket yet (it is starting and migrating). */
const JOIN_WAIT_MS = 120_000;

export interface EmbeddedOptions {
  dataDir: string;
  /** Who opens it, named to a process that finds it held: "the pay server", "the mpay CLI". */
  owner: string;
  /** When a live process holds the folder: join it through its socket (operator commands) instead of failing. */
  join: boolean;
}

/** This process owns the folder: PGlite is open here, under the lock. */
export interface OwnedFolder {
  kind: "owned";
  client: PGlite;
  /** Serves the folder to the commands that join it; called once the schema is migrated. */
  share(): Promise<void>;
  close(): Promise<void>;
}

/** Another process owns the folder: reach it on its socket (node-postgres: `host` is the socket's folder). */
export interface JoinedFolder {
  kind: "joined";
  socketDir: string;
  port: number;
  holder: FolderHolder;
}

export async function openEmbedded(options: EmbeddedOptions): Promise<OwnedFolder | JoinedFolder> {
  await mkdir(options.dataDir, { recursive: true });
  const started = Date.now();
  for (;;) {
    let lock: FolderLock;
    try {
      lock = await takeFolderLock(options.dataDir, options.owner);
    } catch (error) {
      if (!(error instanceof DatabaseFolderInUseError) || !options.join) throw error;
      const socket = error.holder.socket;
      if (socket) return { kind: "joined", socketDir: dirname(socket), port: SOCKET_PORT, holder: error.holder };
      // The holder is still starting (PGlite opening, migrations): its socket comes once it is done.
      if (Date.now() - started > JOIN_WAIT_MS) {
        throw new Error(
          `${error.message} It has not served the folder to other commands within ${JOIN_WAIT_MS / 1000} s: try again once it has started.`,
        );
      }
      await sleep(250);
      continue;
    }
    return await openOwned(options.dataDir, lock);
  }
}

async function openOwned(dataDir: string, lock: FolderLock): Promise<OwnedFolder> {
  let client: PGlite;
  try {
    client = await PGlite.create(dataDir);
  } catch (error) {
    await lock.release();
    throw error;
  }
  let share: SocketShare | undefined;
  let temporaryDir: string | undefined;
  return {
    kind: "owned",
    client,
    async share() {
      if (share) return;
      let socket = join(dataDir, SOCKET_NAME);
      if (Buffer.byteLength(socket) > SOCKET_PATH_MAX)
        socket = join((temporaryDir = await mkdtemp(join(tmpdir(), "mpay-db-"))), SOCKET_NAME);
      share = await serveOnSocket(client, socket);
      await lock.announceSocket(socket);
    },
    async close() {
      try {
        await share?.stop();
        await client.close();
      } finally {
        if (temporaryDir) await rm(temporaryDir, { recursive: true, force: true });
        await lock.release();
      }
    },
  };
}

/** The live holder of a folder, if any (for messages and tests). */
export async function folderHolder(dataDir: string): Promise<FolderHolder | undefined> {
  const holder = await readHolder(dataDir);
  return holder && isAlive(holder) ? holder : undefined;
}
