import pg from "pg";
import { describe, expect, it } from "vitest";
import { isDatabaseUnavailable } from "./database-unavailable.ts";
import { NoWritableHostError } from "./pg-hosts.ts";

/** The error node-postgres gives for a SQLSTATE, as the server sent it. */
function serverError(code: string): Error {
  return Object.assign(new Error("server said"), { code, severity: "FATAL" });
}

/** drizzle's wrapper of a failed query (its class is not exported from the root). */
function underDrizzle(cause: Error): Error {
  const wrapped = new Error("Failed query: select 1\\nparams: ", { cause });
  wrapped.name = "DrizzleQueryError";
  return Object.assign(wrapped, { query: "select 1", params: [] });
}

describe("isDatabaseUnavailable", () => {
  it("knows a failing-over or going-away database, directly or under drizzle's wrapper", () => {
    for (const code of ["25006", "53300", "57P01", "57P02", "57P03", "08006", "08001"]) {
      expect(isDatabaseUnavailable(serverError(code))).toBe(true);
      expect(isDatabaseUnavailable(underDrizzle(serverError(code)))).toBe(true);
    }
    expect(isDatabaseUnavailable(new NoWritableHostError("no host"))).toBe(true);
    expect(isDatabaseUnavailable(underDrizzle(new Error("Connection terminated unexpectedly")))).toBe(true);
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), {
      code: "ECONNREFUSED",
      syscall: "connect",
    });
    expect(isDatabaseUnavailable(underDrizzle(refused))).toBe(true);
  });

  it("leaves a wrong statement, a constraint and an issuer's refused socket to their own answers", () => {
    for (const code of ["23505", "42P01", "22P02", "40001"]) {
      expect(isDatabaseUnavailable(underDrizzle(serverError(code)))).toBe(false);
    }
    const issuerDown = new TypeError("fetch failed", {
      cause: Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9"), { code: "ECONNREFUSED", syscall: "connect" }),
    });
    expect(isDatabaseUnavailable(issuerDown)).toBe(false);
    expect(isDatabaseUnavailable(new Error("boom"))).toBe(false);
    expect(isDatabaseUnavailable("Connection terminated")).toBe(false);
  });

  it("recognises what node-postgres really throws for a refused connection and a terminated backend", async () => {
    const refused = new pg.Client({ connectionString: "postgres://postgres@127.0.0.1:1/test" });
    const error = await refused.connect().then(
      () => null,
      (e: unknown) => e,
    );
    expect(isDatabaseUnavailable(underDrizzle(error as Error))).toBe(true);
    if (!process.env["DATABASE_URL"]) return;
    const victim = new pg.Client({ connectionString: process.env["DATABASE_URL"] });
    victim.on("error", () => {});
    await victim.connect();
    const killer = new pg.Client({ connectionString: process.env["DATABASE_URL"] });
    await killer.connect();
    const { rows } = await victim.query<{ pid: number }>("select pg_backend_pid() as pid");
    await killer.query("select pg_terminate_backend($1)", [rows[0]?.pid]);
    await killer.end();
    const ended = await victim.query("select 1").then(
      () => null,
      (e: unknown) => e,
    );
    expect(isDatabaseUnavailable(ended)).toBe(true);
    await victim.end().catch(() => {});
  });
});
