/**
 * PostgreSQL behind a failover (pg_auto_failover, Patroni): a DATABASE_URL that lists several hosts, libpq style
 * (`postgres://u@h1:5432,h2:5433/db?target_session_attrs=read-write`). node-postgres knows neither multi-host URLs
 * nor `target_session_attrs`, so the pool is given a client that searches the hosts in turn and keeps the first
 * whose `SHOW transaction_read_only` is `off`: after a failover the old primary is gone (or a standby now), and the
 * next connection finds the new one. A client that meets a read-only host or a shut-down session is retired from
 * the pool, so the search runs again instead of a dead or read-only connection being handed out anew.
 */
import pg from "pg";

export interface PgHost {
  host: string;
  port: number;
}

export interface HostList {
  hosts: PgHost[];
  /** The URL with the first host only and without `target_session_attrs`, for node-postgres's own parser. */
  singleHostUrl: string;
  /** The same for one of the hosts (node-postgres lets a connection string win over a `host` beside it). */
  urlFor(host: PgHost): string;
}

/** Bad DATABASE_URL host lists; the message names the problem, never the URL (it may hold a password). */
export class HostListError extends Error {
  readonly code = "database_url_invalid";
}

/** The pool found no writable host; names every host and why, never the password. */
export class NoWritableHostError extends Error {
  readonly code = "database_no_writable_host";
}

const URL_PARTS = /^(postgres(?:ql)?:\/\/)([^@/?#]*@)?([^/?#]*)(.*)$/;
/** What the pay server can use: a writable primary. `any`/`standby` would hand it a read-only session. */
const WRITABLE_ATTRS = new Set(["read-write", "primary"]);

/**
 * The hosts of a multi-host URL, or undefined for a URL node-postgres reads unchanged (one host, no
 * `target_session_attrs`): single-host deployments behave exactly as before.
 */
export function parseHostList(url: string): HostList | undefined {
  const parts = URL_PARTS.exec(url);
  if (!parts) return undefined;
  const [, scheme = "", userinfo = "", hostPart = "", rest = ""] = parts;
  const queryAt = rest.indexOf("?");
  const query = new URLSearchParams(queryAt < 0 ? "" : rest.slice(queryAt + 1).split("#")[0]);
  const attrs = query.get("target_session_attrs");
  if (!hostPart.includes(",") && attrs === null) return undefined;
  if (attrs !== null && !WRITABLE_ATTRS.has(attrs))
    throw new HostListError(
      `target_session_attrs=${attrs} is not supported: the pay server needs a writable primary (read-write or primary)`,
    );
  const hosts = hostPart.split(",").map(parseHost);
  query.delete("target_session_attrs");
  const path = queryAt < 0 ? rest : rest.slice(0, queryAt);
  const search = query.toString();
  const urlFor = (h: PgHost) => `${scheme}${userinfo}${hostLabel(h)}${path}${search ? `?${search}` : ""}`;
  return { hosts, singleHostUrl: urlFor(hosts[0] as PgHost), urlFor };
}

function parseHost(text: string): PgHost {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(text);
  const port = Number(match?.[2] ?? 5432);
  if (!match?.[1] || port < 1 || port > 65535)
    throw new HostListError(`DATABASE_URL lists a host that is not host[:port]: ${JSON.stringify(text)}`);
  return { host: decodeURIComponent(match[1].replace(/^\[|\]$/g, "")), port };
}

export function hostLabel(h: PgHost): string {
  return `${h.host.includes(":") ? `[${h.host}]` : h.host}:${h.port}`;
}

/** SQLSTATEs after which a connection must not be used again: a read-only host, a session shut down by an admin. */
const RETIRING_CODES = new Set(["25006", "57P01", "57P02", "57P03"]);

function retires(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string" && RETIRING_CODES.has(code)) return true;
  // node-postgres's words for a socket that ended under a query (no SQLSTATE).
  const message = error instanceof Error ? error.message : "";
  return /Connection terminated|ECONNRESET|EPIPE|not queryable/.test(message);
}

/** What a failed attempt on one host says, without anything from the URL. */
function why(error: unknown): string {
  const e = error as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === "string" ? ` (${e.code})` : "";
  return `${typeof e?.message === "string" ? e.message : String(error)}${code}`;
}

/**
 * A pg.Pool over the hosts of `list`. `config` is the pool's own (size, timeouts, search path); the connection
 * string given to node-postgres names the first host, and each client picks its host before connecting.
 */
export function multiHostPool(list: HostList, config: pg.PoolConfig): pg.Pool {
  // The host that last proved writable: a new client tries it first, so the usual case costs no search.
  let current: PgHost | undefined;
  const connectionTimeoutMillis = config.connectionTimeoutMillis ?? 5_000;
  const base = { ...config, connectionString: list.singleHostUrl, connectionTimeoutMillis };

  /** Whether the session on `client` may write (a standby, or a read-only role, shows `on`). */
  async function writable(client: Pick<pg.Client, "query">): Promise<boolean> {
    const shown = await client.query<{ transaction_read_only: string }>("show transaction_read_only");
    return shown.rows[0]?.transaction_read_only === "off";
  }

  class HostSearchingClient extends pg.Client {
    /** Set when an error says this connection must not be pooled again; the pool's release drops it. */
    retired = false;

    constructor(config?: pg.ClientConfig) {
      super(config);
      // The socket failed (the host died): whatever host comes next must be searched for. Listening here also
      // keeps an error on a checked-out client from crashing the process; its next query fails instead.
      this.on("error", () => {
        this.retired = true;
        current = undefined;
      });
    }

    // node-postgres's two forms: a promise of the client, or a callback (the one pg.Pool uses).
    override connect(): Promise<pg.Client>;
    override connect(callback: (err: Error | null, client?: pg.Client) => void): void;
    override connect(callback?: (err: Error | null, client?: pg.Client) => void): Promise<pg.Client> | void {
      const connecting = this.#connectToWritable().then(() => this as pg.Client);
      if (!callback) return connecting;
      connecting.then(
        (client) => callback(null, client),
        (error: Error) => callback(error),
      );
    }

    /**
     * A pg.Client connects once, so the search runs on probe clients; this client then opens on the host found
     * and checks again (the host may have changed role in between: then it fails, and the next connect searches).
     */
    async #connectToWritable(): Promise<void> {
      const target = current ?? (await findWritable());
      this.host = target.host;
      this.port = target.port;
      // Where node-postgres's connect reads the address from (its ConnectionParameters, untyped).
      const parameters = (this as unknown as { connectionParameters: PgHost }).connectionParameters;
      parameters.host = target.host;
      parameters.port = target.port;
      try {
        await super.connect();
      } catch (error) {
        if (current === target) current = undefined;
        throw new NoWritableHostError(`PostgreSQL at ${hostLabel(target)} failed: ${why(error)}`);
      }
      if (!(await writable(this))) {
        if (current === target) current = undefined;
        await this.end().catch(() => undefined);
        throw new NoWritableHostError(`PostgreSQL at ${hostLabel(target)} is read-only (a standby now)`);
      }
      current = target;
    }

    override query(...args: unknown[]): never {
      const callback = typeof args[args.length - 1] === "function" ? (args.pop() as (...a: unknown[]) => void) : null;
      const noticed = (error: unknown) => {
        if (error && retires(error)) {
          this.retired = true;
          current = undefined;
        }
      };
      const run = super.query as unknown as (...a: unknown[]) => unknown;
      if (callback) {
        return run.call(this, ...args, (error: unknown, ...rest: unknown[]) => {
          noticed(error);
          callback(error, ...rest);
        }) as never;
      }
      const result = run.call(this, ...args);
      // A Submittable (a query object with its own events) is returned as is; a promise is watched.
      if (result instanceof Promise)
        return result.catch((error: unknown) => (noticed(error), Promise.reject(error))) as never;
      return result as never;
    }
  }

  /** Each host in turn; the first writable one, or an error naming every host and why it was passed over. */
  async function findWritable(): Promise<PgHost> {
    const reasons: string[] = [];
    for (const target of list.hosts) {
      const probe = new pg.Client({ ...base, connectionString: list.urlFor(target) });
      probe.on("error", () => {});
      try {
        await probe.connect();
        if (await writable(probe)) return target;
        reasons.push(`${hostLabel(target)} is read-only`);
      } catch (error) {
        reasons.push(`${hostLabel(target)}: ${why(error)}`);
      } finally {
        await probe.end().catch(() => undefined);
      }
    }
    throw new NoWritableHostError(
      `no writable PostgreSQL among ${list.hosts.map(hostLabel).join(", ")}: ${reasons.join("; ")}`,
    );
  }

  const pool = new pg.Pool({ ...base, Client: HostSearchingClient as unknown as typeof pg.Client });
  // Emitted before the pool decides whether to keep the client: ending a retired one makes it drop it.
  pool.on("release", (_error: Error | undefined, client: pg.PoolClient) => {
    if ((client as unknown as HostSearchingClient).retired) void client.end().catch(() => undefined);
  });
  return pool;
}
