/**
 * Serves the owner's PGlite instance on a local Unix socket (@electric-sql/pglite-socket), so the operator
 * commands (`mpay`, `messenger`) reach the database a running server holds, with node-postgres, and see and
 * change what the server sees.
 *
 * PGlite is ONE PostgreSQL session. pglite-socket 0.2.17 runs each wire message of a client under
 * `PGlite.runExclusive`, PGlite's per-statement lock only, and keeps a client's messages together only against
 * its other clients. The owner's own `query`/`exec`/`transaction` take PGlite's transaction lock first, which
 * pglite-socket never takes, so the two would interleave: an owner's statement would run inside a client's open
 * transaction (and vanish with its ROLLBACK, or see its uncommitted rows), or between a client's Parse and Sync;
 * a client's statement would run inside the owner's transaction. `sessionGate` closes this: a client takes the
 * transaction lock before its first message and holds it until the session is idle again (a Sync or a simple
 * Query has ended and no transaction block is open), so the owner and the clients take turns by whole
 * transactions, as separate sessions on PostgreSQL would by their locks.
 */
import { chmod, unlink } from "node:fs/promises";
import type { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";

/** Wire message types after which the session can be idle (a startup packet's first byte is 0). */
const SYNC = 0x53;
const QUERY = 0x51;
const TERMINATE = 0x58;
const STARTUP = 0x00;
const ROLLBACK = simpleQuery("ROLLBACK");

/** A simple Query message ('Q', length, text, NUL). */
function simpleQuery(text: string): Uint8Array {
  const body = Buffer.from(`${text}\0`, "utf8");
  const message = Buffer.alloc(5 + body.length);
  message.write("Q", 0, "latin1");
  message.writeInt32BE(4 + body.length, 1);
  body.copy(message, 5);
  return message;
}

/**
 * The PGlite instance as pglite-socket sees it: every client message under the owner's transaction lock, held
 * across messages while a client is inside a transaction or an extended-query sequence. `isInTransaction` says
 * whether a client holds the session, which is what pglite-socket asks it for (to keep that client's messages
 * together); its ROLLBACK for a client that left mid-transaction runs under the same lock.
 */
export function sessionGate(db: PGlite): PGlite {
  let held: (() => void) | undefined;
  let lastType = STARTUP;
  // pglite-socket runs one message at a time, but its ROLLBACK on disconnect may overlap one: keep them in line.
  let line: Promise<unknown> = Promise.resolve();
  const takeTransactionLock = () =>
    new Promise<() => void>((acquired) => {
      void db._runExclusiveTransaction(() => new Promise<void>((release) => acquired(release)));
    });
  const inTurn = <T>(fn: () => Promise<T>, always = false): Promise<T> => {
    const turn = line.then(async () => {
      held ??= await takeTransactionLock();
      try {
        return await db.runExclusive(fn);
      } finally {
        const ended = lastType === SYNC || lastType === QUERY || lastType === TERMINATE || lastType === STARTUP;
        if (always || (ended && !db.isInTransaction())) {
          const release = held;
          held = undefined;
          release?.();
        }
      }
    });
    line = turn.catch(() => {});
    return turn;
  };
  const overrides: Partial<PGlite> = {
    isInTransaction: () => held !== undefined,
    runExclusive: <T>(fn: () => Promise<T>) => inTurn(fn),
    execProtocolRawStream: (message, options) => {
      lastType = message[0] ?? STARTUP;
      return db.execProtocolRawStream(message, options);
    },
    // pglite-socket's only exec: ROLLBACK for a client that disconnected while holding the session. A ROLLBACK
    // also ends an unfinished extended-query sequence; a closing database makes it moot.
    exec: async () => {
      await inTurn(async () => {
        lastType = QUERY;
        if (!db.closed) await db.execProtocolRaw(ROLLBACK);
      }, true).catch(() => {});
      return [];
    },
  };
  return new Proxy(db, {
    get(target, property) {
      if (Object.hasOwn(overrides, property)) return overrides[property as keyof PGlite];
      // PGlite's methods and getters use private fields: they must run on the instance itself, never on the proxy.
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

export interface SocketShare {
  readonly socket: string;
  stop(): Promise<void>;
}

/** Connections at once: each `mpay`/`messenger` command uses a few; extra ones are dropped, not queued. */
const MAX_CONNECTIONS = 16;

/** Serves `db` on the Unix socket `socket` (a stale file there, left by a crash, is replaced); owner-only access. */
export async function serveOnSocket(db: PGlite, socket: string): Promise<SocketShare> {
  await unlink(socket).catch(() => {});
  const server = new PGLiteSocketServer({ db: sessionGate(db), path: socket, maxConnections: MAX_CONNECTIONS });
  await server.start();
  await chmod(socket, 0o600);
  return {
    socket,
    async stop() {
      await server.stop();
      await unlink(socket).catch(() => {});
    },
  };
}
