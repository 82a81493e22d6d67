/**
 * One owner per embedded database folder. PGlite takes no lock: a second process that opens the same folder
 * writes into a copy of its own, lost or corrupting the folder when either closes (issue 8). So every process
 * that opens a folder first takes `<folder>/owner.lock`, a small JSON record of who holds it (pid, host, what,
 * since when, and later the socket it serves the folder on). A lock whose pid is dead on this host is stale and
 * taken over; a live one is refused with an error that names the folder, the holder and what to do.
 */
import { randomBytes } from "node:crypto";
import { unlinkSync } from "node:fs";
import { link, readFile, rename, unlink, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";

export const LOCK_FILE = "owner.lock";

export interface FolderHolder {
  pid: number;
  host: string;
  /** What holds it, for people: "the pay server", "the mpay CLI". */
  owner: string;
  since: string;
  /** The Unix socket the holder serves the folder on, once it does. */
  socket?: string | undefined;
  /** Tells this holding from another by the same process (tests reopen a folder). */
  token: string;
}

/** Thrown when another live process holds the folder; its message says what to do. */
export class DatabaseFolderInUseError extends Error {
  constructor(
    readonly folder: string,
    readonly holder: FolderHolder,
  ) {
    super(
      `the database folder ${folder} is in use by ${holder.owner} (pid ${holder.pid}${holder.host === hostname() ? "" : ` on ${holder.host}`}, since ${holder.since}): ` +
        `an embedded (PGlite) database has one owner. Stop that process first, or give this one a data folder of its own or a PostgreSQL URL. ` +
        `The mpay and messenger commands need no stop: they work through the running server. ` +
        `If no such process runs, delete ${join(folder, LOCK_FILE)}.`,
    );
    this.name = "DatabaseFolderInUseError";
  }
}

export interface FolderLock {
  readonly folder: string;
  readonly holder: FolderHolder;
  /** Records the socket this process now serves the folder on, for the commands that join it. */
  announceSocket(socket: string): Promise<void>;
  release(): Promise<void>;
}

/** Locks held by this process, removed at exit even when `release` was never reached (process.exit). */
const held = new Map<string, string>();
let exitHookInstalled = false;

function removeHeldAtExit(): void {
  for (const path of held.keys()) {
    try {
      unlinkSync(path);
    } catch {
      // Already gone: nothing to undo.
    }
  }
}

/** The current holder, or undefined when the folder is free (no lock file, or one being replaced). */
export async function readHolder(folder: string): Promise<FolderHolder | undefined> {
  return parseHolder(await readFile(join(folder, LOCK_FILE), "utf8").catch(() => undefined));
}

function parseHolder(text: string | undefined): FolderHolder | undefined {
  if (text === undefined) return undefined;
  try {
    const value = JSON.parse(text) as Partial<FolderHolder>;
    if (typeof value.pid !== "number" || typeof value.host !== "string" || typeof value.token !== "string")
      return undefined;
    return {
      pid: value.pid,
      host: value.host,
      owner: String(value.owner ?? "a process"),
      since: String(value.since ?? "?"),
      socket: value.socket,
      token: value.token,
    };
  } catch {
    return undefined;
  }
}

/** Whether the holder may still run: a pid on another host cannot be checked, so it counts as alive. */
export function isAlive(holder: FolderHolder): boolean {
  if (holder.host !== hostname()) return true;
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (error) {
    // EPERM: the pid exists but belongs to another user; it runs.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Writes `text` beside `path` first, so a reader never sees half a record. */
async function writeTemporary(path: string, text: string): Promise<string> {
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString("hex")}`;
  await writeFile(temporary, text, { mode: 0o600 });
  return temporary;
}

/** Takes the folder's lock, taking over a stale one, or throws DatabaseFolderInUseError. The folder must exist. */
export async function takeFolderLock(folder: string, owner: string): Promise<FolderLock> {
  const path = join(folder, LOCK_FILE);
  let holder: FolderHolder = {
    pid: process.pid,
    host: hostname(),
    owner,
    since: new Date().toISOString(),
    token: randomBytes(8).toString("hex"),
  };
  for (let attempt = 0; ; attempt++) {
    const temporary = await writeTemporary(path, JSON.stringify(holder));
    try {
      // link() fails when the lock exists: of two processes that try at once, exactly one gets it.
      await link(temporary, path);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    } finally {
      await unlink(temporary).catch(() => {});
    }
    const text = await readFile(path, "utf8").catch(() => undefined);
    const current = parseHolder(text);
    if (current && isAlive(current)) throw new DatabaseFolderInUseError(folder, current);
    if (attempt >= 20) throw new Error(`could not take the lock ${path}: it keeps changing`);
    if (text !== undefined) await removeStale(path, text);
  }
  held.set(path, holder.token);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on("exit", removeHeldAtExit);
  }
  return {
    folder,
    get holder() {
      return holder;
    },
    async announceSocket(socket) {
      holder = { ...holder, socket };
      await rename(await writeTemporary(path, JSON.stringify(holder)), path);
    },
    async release() {
      if (held.get(path) !== holder.token) return;
      held.delete(path);
      const current = await readHolder(folder);
      if (current?.token === holder.token) await unlink(path).catch(() => {});
    },
  };
}

/**
 * Moves a dead holder's lock aside. Two processes may find it stale at once: rename lets only one move it, and
 * one that moved a lock it did not judge (a fresh one, taken meanwhile) puts it back.
 */
async function removeStale(path: string, judged: string): Promise<void> {
  const aside = `${path}.stale.${process.pid}.${randomBytes(4).toString("hex")}`;
  try {
    await rename(path, aside);
  } catch {
    return; // Another process moved it first.
  }
  const moved = await readFile(aside, "utf8").catch(() => undefined);
  if (moved !== judged) await link(aside, path).catch(() => {});
  await unlink(aside).catch(() => {});
}
