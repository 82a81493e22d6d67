/**
 * The crash drill's third kind of crash (issue 12, PostgreSQL only): a server's database connection ended under
 * it (pg_terminate_backend), as a PostgreSQL restart, a failover or an idle-connection reaper does. The pooled
 * client is gone in the middle of whatever it was doing; the server must replace it and lose no answer.
 */
import pg from "pg";

/** Ends up to `n` client connections to `databases`, chosen at random; how many it ended. */
export async function terminateBackends(adminUrl: string, databases: string[], n: number): Promise<number> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ ended: number }>(
      `select count(*) filter (where pg_terminate_backend(pid))::int as ended
         from (select pid from pg_stat_activity
                where datname = any($1) and backend_type = 'client backend' and pid <> pg_backend_pid()
                order by random() limit $2) chosen`,
      [databases, n],
    );
    return rows[0]?.ended ?? 0;
  } finally {
    await client.end();
  }
}
