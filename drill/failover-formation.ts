/**
 * A throwaway pg_auto_failover formation on this machine for the failover drill: a monitor, a primary and a
 * synchronous standby (Debian's postgresql-15-auto-failover). pg_autoctl refuses root, so every node runs as the
 * postgres user (`runuser -u postgres --`) with a clean environment: a PATH holding PostgreSQL 15's binaries, the
 * XDG folders in the formation's own directory, `--listen 127.0.0.1`, the default socket directory. Each node is
 * its own process group, so killing the group is the machine losing that node: keeper and postmaster at once.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, openSync, closeSync } from "node:fs";
import { chown, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";

export const PG_BIN = "/usr/lib/postgresql/15/bin";
export const INSTALL_HINT =
  "pg_autoctl is missing: apt-get install postgresql-15-auto-failover (Debian's pg_auto_failover for PostgreSQL 15)";

/**
 * The drill's shortened monitor timeouts (defaults: period 5 s, timeout 5 s, 2 retries 2 s apart, unhealthy after
 * 20 s, demote timeout 30 s). Shorter demote timeout is safe here only because the old primary is dead: in
 * production it must stay above the keeper's network_partition_timeout (20 s), or a partitioned primary could
 * still accept writes when the standby is promoted.
 */
export const SHORT_TIMEOUTS: Record<string, number> = {
  "pgautofailover.health_check_period": 1000,
  "pgautofailover.health_check_timeout": 1000,
  "pgautofailover.health_check_max_retries": 1,
  "pgautofailover.health_check_retry_delay": 500,
  "pgautofailover.node_considered_unhealthy_timeout": 3000,
  "pgautofailover.primary_demote_timeout": 5000,
};

export interface NodeState {
  port: number;
  reported: string;
  goal: string;
}

export interface Formation {
  monitorPort: number;
  nodePorts: [number, number];
  /** `127.0.0.1:p1,127.0.0.1:p2`: the hosts a multi-host DATABASE_URL lists. */
  hosts: string;
  /** A single-host URL of one node (the postgres superuser, trust on 127.0.0.1). */
  nodeUrl(port: number, database?: string): string;
  /** The nodes as the monitor sees them. */
  states(): Promise<NodeState[]>;
  /** The port of the node that is primary (or wait_primary) as both it and the monitor say, if any. */
  primary(): Promise<number | undefined>;
  /** SIGKILL to the node's whole process group: the keeper and the postmaster with its backends. */
  kill(port: number): void;
  /** Every process stopped and the directory removed. */
  close(): Promise<void>;
  /** The last lines of every process's log, for a failure report. */
  logs(): Promise<string>;
}

export function pgAutoctlMissing(): boolean {
  return !existsSync("/usr/bin/pg_autoctl") && !existsSync(join(PG_BIN, "pg_autoctl"));
}

async function waitUntil<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(250);
  }
}

async function query<R extends pg.QueryResultRow>(url: string, text: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  client.on("error", () => {});
  await client.connect();
  try {
    return (await client.query<R>(text)).rows;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function startFormation(options: {
  ports: [number, number, number];
  shortTimeouts: boolean;
  progress: (line: string) => void;
}): Promise<Formation> {
  if (pgAutoctlMissing()) throw new Error(INSTALL_HINT);
  if (userInfo().uid !== 0)
    throw new Error("the failover drill runs pg_autoctl as the postgres user through runuser: run it as root");
  const [monitorPort, primaryPort, standbyPort] = options.ports;
  const dir = await mkdtemp(join(tmpdir(), "mpay-drill-failover-"));
  const postgresUid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim());
  const postgresGid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim());
  await chown(dir, postgresUid, postgresGid);
  const children = new Map<string, ChildProcess>();
  const nodeUrl = (port: number, database = "postgres") => `postgres://postgres@127.0.0.1:${port}/${database}`;
  const monitorUrl = nodeUrl(monitorPort, "pg_auto_failover");

  const autoctl = (name: string, args: string[]) => {
    const log = openSync(join(dir, `${name}.log`), "a");
    const child = spawn(
      "runuser",
      [
        "-u",
        "postgres",
        "--",
        "env",
        "-i",
        `PATH=${PG_BIN}:/usr/bin:/bin`,
        `HOME=${dir}`,
        `XDG_CONFIG_HOME=${dir}/config`,
        `XDG_DATA_HOME=${dir}/share`,
        `XDG_RUNTIME_DIR=${dir}/run`,
        "pg_autoctl",
        ...args,
        "--auth",
        "trust",
        "--no-ssl",
        "--hostname",
        "127.0.0.1",
        "--listen",
        "127.0.0.1",
        "--run",
      ],
      // Its own process group: one kill takes the keeper and its postmaster.
      { detached: true, stdio: ["ignore", log, log] },
    );
    closeSync(log);
    children.set(name, child);
    return child;
  };
  const portOf = new Map<number, string>([
    [monitorPort, "monitor"],
    [primaryPort, "node1"],
    [standbyPort, "node2"],
  ]);
  const kill = (port: number) => {
    const child = children.get(portOf.get(port) ?? "");
    if (child?.pid && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  };
  const states = async () =>
    (
      await query<{ port: number; reported: string; goal: string }>(
        monitorUrl,
        "select nodeport as port, reportedstate::text as reported, goalstate::text as goal from pgautofailover.node order by nodeport",
      )
    ).map((r) => ({ port: Number(r.port), reported: r.reported, goal: r.goal }));
  const formation: Formation = {
    monitorPort,
    nodePorts: [primaryPort, standbyPort],
    hosts: `127.0.0.1:${primaryPort},127.0.0.1:${standbyPort}`,
    nodeUrl,
    states,
    async primary() {
      // A dead primary keeps its last reported state: the monitor's goal for it says it is demoted.
      const found = (await states()).find(
        (s) => ["primary", "wait_primary"].includes(s.reported) && s.goal === s.reported,
      );
      return found?.port;
    },
    kill,
    async close() {
      for (const port of [primaryPort, standbyPort, monitorPort]) kill(port);
      await sleep(500);
      await rm(dir, { recursive: true, force: true });
    },
    async logs() {
      const parts: string[] = [];
      for (const name of children.keys()) {
        const text = await readFile(join(dir, `${name}.log`), "utf8").catch(() => "");
        parts.push(`--- ${name}\n${text.split("\n").slice(-15).join("\n")}`);
      }
      return parts.join("\n");
    },
  };

  try {
    const started = Date.now();
    options.progress(`pg_auto_failover: monitor on ${monitorPort}`);
    autoctl("monitor", ["create", "monitor", "--pgdata", join(dir, "monitor"), "--pgport", String(monitorPort)]);
    await waitUntil("the monitor", async () => ((await states()) ? true : undefined), 60_000);
    if (options.shortTimeouts) {
      for (const [name, value] of Object.entries(SHORT_TIMEOUTS))
        await query(nodeUrl(monitorPort), `alter system set ${name} = ${value}`);
      await query(nodeUrl(monitorPort), "select pg_reload_conf()");
    }
    const join_ = (name: string, port: number) =>
      autoctl(name, [
        "create",
        "postgres",
        "--pgdata",
        join(dir, name),
        "--pgport",
        String(port),
        "--monitor",
        `postgres://autoctl_node@127.0.0.1:${monitorPort}/pg_auto_failover?sslmode=disable`,
      ]);
    options.progress(`pg_auto_failover: primary on ${primaryPort}`);
    join_("node1", primaryPort);
    await waitUntil(
      "the primary",
      async () => ((await states()).some((s) => s.port === primaryPort && s.reported === "single") ? true : undefined),
      90_000,
    );
    options.progress(`pg_auto_failover: synchronous standby on ${standbyPort}`);
    join_("node2", standbyPort);
    await waitUntil(
      "the standby in sync",
      async () => {
        const now = await states();
        const ok =
          now.find((s) => s.port === primaryPort)?.reported === "primary" &&
          now.find((s) => s.port === standbyPort)?.reported === "secondary";
        if (!ok) return undefined;
        const [sync] = await query<{ names: string }>(
          nodeUrl(primaryPort),
          "select current_setting('synchronous_standby_names') as names",
        );
        return sync?.names ? true : undefined;
      },
      120_000,
    );
    options.progress(`pg_auto_failover: formation ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return formation;
  } catch (error) {
    const logs = await formation.logs();
    await formation.close();
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${logs}`);
  }
}
