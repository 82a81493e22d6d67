/**
 * A counting proxy for the PostgreSQL wire protocol, for profiling without touching the server's settings
 * (no log_statement, no pg_stat_statements needed). The pay servers connect through it; it forwards every byte
 * unchanged and, on the way, counts the round trips (each Sync of the extended protocol or simple Query, answered
 * by one ReadyForQuery) and the statement text of each Parse, with the time from the request to the answer.
 *
 * It costs CPU on the benchmark machine, so figures measured with it are for counting, not for throughput.
 */
import net from "node:net";
import { performance } from "node:perf_hooks";

export interface StatementStat {
  sql: string;
  count: number;
  /** Summed time from sending the round trip that carried it to the ReadyForQuery that ended it. */
  totalMs: number;
}

export interface TraceSnapshot {
  roundTrips: number;
  /** Summed wall time of all round trips (connections overlap, so this exceeds the elapsed time). */
  roundTripMs: number;
  statements: StatementStat[];
  connections: number;
}

export interface SqlTrace {
  /** The database URL to give the servers instead of the real one. */
  url: string;
  snapshot(): TraceSnapshot;
  reset(): void;
  close(): Promise<void>;
}

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;

function normalize(sql: string): string {
  // The whole statement: the report shortens it for print, and `--trace-sql` EXPLAINs it (bench/explain.ts).
  return sql.replace(/\s+/g, " ").trim();
}

export async function startSqlTrace(targetUrl: string): Promise<SqlTrace> {
  const target = new URL(targetUrl);
  const targetHost = target.hostname.replace(/^\[|\]$/g, "") || "127.0.0.1";
  const targetPort = Number(target.port || 5432);
  let roundTrips = 0;
  let roundTripMs = 0;
  let connections = 0;
  let stats = new Map<string, StatementStat>();
  /** Named statements' text by name (names are unique per text in the pay server: namedStatement, drizzle's prepare). */
  const named = new Map<string, string>();
  const sockets = new Set<net.Socket>();

  const record = (texts: string[], ms: number) => {
    roundTrips++;
    roundTripMs += ms;
    for (const text of texts.length ? texts : ["(execute without a statement)"]) {
      const s = stats.get(text) ?? { sql: text, count: 0, totalMs: 0 };
      s.count++;
      s.totalMs += ms;
      stats.set(text, s);
    }
  };

  const server = net.createServer((client) => {
    connections++;
    const upstream = net.connect(targetPort, targetHost);
    sockets.add(client);
    sockets.add(upstream);
    // Client side: messages since the last Sync, and round trips awaiting their ReadyForQuery.
    let clientBuf: Buffer = Buffer.alloc(0);
    let clientStartup = true;
    let batch: string[] = [];
    /** Statement names parsed since the last Sync (their Bind is counted with the Parse). */
    const parsedInBatch = new Set<string>();
    const pending: Array<{ texts: string[]; at: number }> = [];
    // Server side.
    let serverBuf: Buffer = Buffer.alloc(0);
    let serverSingleBytes = 0;

    client.on("data", (chunk: Buffer) => {
      upstream.write(chunk);
      clientBuf = clientBuf.length ? Buffer.concat([clientBuf, chunk]) : chunk;
      for (;;) {
        if (clientStartup) {
          if (clientBuf.length < 8) break;
          const len = clientBuf.readInt32BE(0);
          if (clientBuf.length < len) break;
          const code = clientBuf.readInt32BE(4);
          if (code === SSL_REQUEST || code === GSSENC_REQUEST) serverSingleBytes++;
          else clientStartup = false;
          clientBuf = clientBuf.subarray(len);
          continue;
        }
        if (clientBuf.length < 5) break;
        const type = String.fromCharCode(clientBuf[0] as number);
        const len = clientBuf.readInt32BE(1);
        if (clientBuf.length < 1 + len) break;
        const body = clientBuf.subarray(5, 1 + len);
        if (type === "P") {
          const nameEnd = body.indexOf(0);
          const queryEnd = body.indexOf(0, nameEnd + 1);
          const text = normalize(body.subarray(nameEnd + 1, queryEnd).toString("utf8"));
          const name = body.subarray(0, nameEnd).toString("utf8");
          if (name) {
            named.set(name, text);
            parsedInBatch.add(name);
          }
          batch.push(text);
        } else if (type === "B") {
          // A named statement parsed earlier on this connection is only bound: count it under its text.
          const portalEnd = body.indexOf(0);
          const name = body.subarray(portalEnd + 1, body.indexOf(0, portalEnd + 1)).toString("utf8");
          if (name && !parsedInBatch.has(name)) batch.push(named.get(name) ?? `(prepared statement ${name})`);
        } else if (type === "Q") {
          const end = body.indexOf(0);
          pending.push({
            texts: [...batch, normalize(body.subarray(0, end < 0 ? body.length : end).toString("utf8"))],
            at: performance.now(),
          });
          batch = [];
        } else if (type === "S") {
          pending.push({ texts: batch, at: performance.now() });
          batch = [];
          parsedInBatch.clear();
        }
        clientBuf = clientBuf.subarray(1 + len);
      }
    });

    upstream.on("data", (chunk: Buffer) => {
      client.write(chunk);
      serverBuf = serverBuf.length ? Buffer.concat([serverBuf, chunk]) : chunk;
      for (;;) {
        if (serverSingleBytes > 0) {
          if (serverBuf.length < 1) break;
          serverSingleBytes--;
          serverBuf = serverBuf.subarray(1);
          continue;
        }
        if (serverBuf.length < 5) break;
        const type = String.fromCharCode(serverBuf[0] as number);
        const len = serverBuf.readInt32BE(1);
        if (serverBuf.length < 1 + len) break;
        if (type === "Z") {
          const done = pending.shift();
          if (done) record(done.texts, performance.now() - done.at);
          // The ReadyForQuery after authentication answers no request of ours: nothing pending then.
        }
        serverBuf = serverBuf.subarray(1 + len);
      }
    });

    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("error", end);
    upstream.on("error", end);
    client.on("close", end);
    upstream.on("close", end);
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("proxy has no port");
  const url = new URL(targetUrl);
  url.hostname = "127.0.0.1";
  url.port = String(address.port);

  return {
    url: url.toString(),
    snapshot: () => ({
      roundTrips,
      roundTripMs,
      connections,
      statements: [...stats.values()].sort((a, b) => b.count - a.count || b.totalMs - a.totalMs).map((s) => ({ ...s })),
    }),
    reset() {
      roundTrips = 0;
      roundTripMs = 0;
      stats = new Map();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
