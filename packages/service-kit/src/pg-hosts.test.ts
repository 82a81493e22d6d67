/**
 * The multi-host connector against the real PostgreSQL server (DATABASE_URL, else the local one at 127.0.0.1:5432):
 * a dead host, a standby, every host down, a backend terminated under the pool. The standby is real read-only
 * PostgreSQL: a role with `default_transaction_read_only = on`, reached through a forwarder on a port of its own
 * that logs in as that role (one URL names one user for every host, as libpq's does).
 */
import { randomBytes } from "node:crypto";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import pg from "pg";
import { openDatabase } from "./database.ts";
import { parseHostList } from "./pg-hosts.ts";

const SERVER = new URL(process.env["DATABASE_URL"] || "postgres://postgres@127.0.0.1:5432/test");
const HOST = `${SERVER.hostname}:${SERVER.port || 5432}`;
const ROLE = `mpay_standby_${randomBytes(4).toString("hex")}`;

/** `postgres://user:pw@<hosts>/db` on the server's user and database, with a password that must never show. */
function urlFor(hosts: string[], password = SERVER.password || "s3cret-never-logged"): string {
  const user = decodeURIComponent(SERVER.username || "postgres");
  return `postgres://${user}:${password}@${hosts.join(",")}${SERVER.pathname}`;
}

async function admin<T>(work: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: SERVER.toString() });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A port nothing listens on: bound, then released. */
async function deadPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Forwards to the server, rewriting the startup packet's `user` to the read-only role: a standby at a port. */
async function standbyForwarder(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    sockets.add(client);
    const upstream = net.connect(Number(SERVER.port || 5432), SERVER.hostname);
    sockets.add(upstream);
    let startup = Buffer.alloc(0);
    const onStartup = (chunk: Buffer) => {
      startup = Buffer.concat([startup, chunk]);
      if (startup.length < 4 || startup.length < startup.readInt32BE(0)) return;
      client.off("data", onStartup);
      const length = startup.readInt32BE(0);
      const fields = startup
        .subarray(8, length - 1)
        .toString("utf8")
        .split("\0");
      fields.pop(); // the last pair's terminator
      const user = fields.indexOf("user");
      if (user >= 0) fields[user + 1] = ROLE;
      const body = Buffer.from(`${fields.join("\0")}\0\0`, "utf8");
      const packet = Buffer.alloc(8);
      packet.writeInt32BE(8 + body.length, 0);
      startup.copy(packet, 4, 4, 8);
      upstream.write(Buffer.concat([packet, body, startup.subarray(length)]));
      client.pipe(upstream);
    };
    client.on("data", onStartup);
    upstream.pipe(client);
    const end = () => (client.destroy(), upstream.destroy());
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

const serverPort = (rows: unknown) => Number((rows as { rows: Array<{ port: number }> }).rows[0]?.port);

describe("a DATABASE_URL listing several hosts [postgres]", () => {
  let standby: Awaited<ReturnType<typeof standbyForwarder>>;
  beforeAll(async () => {
    await admin(async (c) => {
      await c.query(`create role ${ROLE} login`);
      await c.query(`alter role ${ROLE} set default_transaction_read_only = on`);
      await c.query(`grant all on schema public to ${ROLE}`);
    });
    standby = await standbyForwarder();
  });
  afterAll(async () => {
    await standby?.close();
    await admin((c) => c.query(`drop role if exists ${ROLE}`)).catch(() => undefined);
  });

  it("reads hosts libpq style, and leaves a single-host URL to node-postgres unchanged", () => {
    expect(parseHostList("postgres://u:p@db:5432/pay?sslmode=disable")).toBeUndefined();
    const list = parseHostList("postgresql://u:p@h1:5432,[::1]:5433,h3/pay?target_session_attrs=read-write&x=1");
    expect(list?.hosts).toEqual([
      { host: "h1", port: 5432 },
      { host: "::1", port: 5433 },
      { host: "h3", port: 5432 },
    ]);
    expect(list?.singleHostUrl).toBe("postgresql://u:p@h1:5432/pay?x=1");
    expect(parseHostList("postgres://u@h1/pay?target_session_attrs=primary")?.hosts).toEqual([
      { host: "h1", port: 5432 },
    ]);
    expect(() => parseHostList("postgres://u:pw@h1,h2/pay?target_session_attrs=standby")).toThrow(
      /target_session_attrs=standby is not supported/,
    );
    expect(() => parseHostList("postgres://u:pw@h1,h2:99999/pay")).toThrow(/not host\[:port\]: "h2:99999"/);
  });

  it("skips a dead host listed first and connects to the live one", async () => {
    const database = await openDatabase({ schema: {}, url: urlFor([`127.0.0.1:${await deadPort()}`, HOST]) });
    try {
      const result = await database.db.execute(sql`select inet_server_port() as port`);
      expect(serverPort(result)).toBe(Number(SERVER.port || 5432));
    } finally {
      await database.close();
    }
  });

  it("skips a read-only standby listed first in favour of the writable host", async () => {
    // The forwarder is a real read-only session: the role's setting holds there.
    const direct = new pg.Client({ connectionString: urlFor([`127.0.0.1:${standby.port}`]) });
    await direct.connect();
    const shown = await direct.query("show transaction_read_only");
    await direct.end();
    expect(shown.rows[0]?.transaction_read_only).toBe("on");

    const database = await openDatabase({
      schema: {},
      url: `${urlFor([`127.0.0.1:${standby.port}`, HOST])}?target_session_attrs=read-write`,
    });
    try {
      const result = await database.db.execute(
        sql`select current_user as who, current_setting('transaction_read_only') as ro`,
      );
      const row = (result as unknown as { rows: Array<{ who: string; ro: string }> }).rows[0];
      expect(row).toMatchObject({ ro: "off" });
      expect(row?.who).not.toBe(ROLE);
      await database.db.execute(sql`create temporary table written (x int)`);
    } finally {
      await database.close();
    }
  });

  it("with every host down or read-only, says so naming each host and never the password", async () => {
    const dead = await deadPort();
    const database = await openDatabase({
      schema: {},
      url: urlFor([`127.0.0.1:${dead}`, `127.0.0.1:${standby.port}`], "pw-Zq81-secret"),
    });
    try {
      // drizzle wraps the pool's error ("Failed query: …") with it as the cause.
      const wrapped = await database.db.execute(sql`select 1`).then(
        () => new Error("connected"),
        (error: Error) => error,
      );
      const failure = (wrapped.cause ?? wrapped) as Error;
      expect(failure.message).toContain(`127.0.0.1:${dead}`);
      expect(failure.message).toContain(`127.0.0.1:${standby.port} is read-only`);
      expect(`${wrapped.message} ${failure.message} ${failure.stack} ${JSON.stringify(failure)}`).not.toContain(
        "pw-Zq81-secret",
      );
      expect((failure as { code?: string }).code).toBe("database_no_writable_host");
    } finally {
      await database.close();
    }
  });

  it("replaces a pooled connection whose backend was terminated; the next query works", async () => {
    const database = await openDatabase({
      schema: {},
      url: urlFor([`127.0.0.1:${await deadPort()}`, HOST]),
      poolSize: 1,
    });
    const pid = async () =>
      Number(
        (
          (await database.db.execute(sql`select pg_backend_pid() as pid`)) as unknown as {
            rows: Array<{ pid: number }>;
          }
        ).rows[0]?.pid,
      );
    try {
      const before = await pid();
      await admin((c) => c.query("select pg_terminate_backend($1)", [before]));
      // The terminated session may be noticed only by the query sent on it (57P01 or a closed socket).
      const first = await pid().catch(() => undefined);
      const after = first ?? (await pid());
      expect(after).not.toBe(before);
      expect(await pid()).toBe(after);
    } finally {
      await database.close();
    }
  });
});
