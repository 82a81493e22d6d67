/**
 * Breach drill (g) of issue 7: an insider with the pay server's database and its KEK rewrites the audit log, or
 * truncates it, and `mpay audit verify` against the witness's heads catches both; the untouched log passes.
 *
 * What the insider holds, exactly:
 * - the pay server's database with owner rights: they disable the append-only triggers and update or delete any
 *   entry and any signed head;
 * - the KEK: the dev key file, opened with the pay server's own key-provider code, so they can seal, open and MAC
 *   as the server does; and since the dev (and shamir) provider derives the audit head key from the KEK, they can
 *   sign heads as the server does too (with pkcs11 an insider who can use the HSM can ask it to sign just the
 *   same). So every head of their forged log carries a good signature, and `mpay audit verify --key` on the export
 *   alone cannot tell: the drill checks that first, to prove the forgery is as good as such an insider makes it;
 * - the pay server's configuration, with the acquirer secret: they can post their own heads to the witness.
 * What they do not hold: the witness, an issuer host with its own process and database (services/issuer), which
 * kept every head the pay server sent it while it ran.
 *
 * Processes: the issuer host (the witness) and the pay server run as processes of their own; `mpay` runs as the
 * operator and as an outsider would (the outsider has the export, the public key and the witness's URL, nothing
 * else). PostgreSQL when DATABASE_URL is set (a fresh database each), else PGlite folders.
 */
import { spawnSync } from "node:child_process";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { sql } from "drizzle-orm";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshDatabase, systemBackends, type FreshDatabase } from "@mpay/service-kit/testing";
import { witnessedHeadsSchema } from "@mpay/protocol";
import { entryHash } from "../services/pay/src/audit/chain.ts";
import { signHead } from "../services/pay/src/audit/signed-head.ts";
import { openDatabase, queryRows, type Database } from "../services/pay/src/db/client.ts";
import { openDevKeyProvider } from "../services/pay/src/keys/dev/dev-provider.ts";
import { DEV_KEY_FILE_NAME } from "../services/pay/src/keys/index.ts";
import { api } from "./support/http.ts";
import { startIssuerProcess, type IssuerProcess } from "./support/issuer-process.ts";
import { fixtureIssuerEnv } from "../services/issuer/src/testing/fixtures.ts";
import { startPayProcess, type PayProcess } from "./support/pay-process.ts";

const MPAY_CLI = fileURLToPath(new URL("../scripts/mpay.mjs", import.meta.url));
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SLOW = 600_000;

interface CliAnswer {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface Report {
  ok: boolean;
  entries: number;
  heads: number;
  witnessedHeads: number;
  problems: Array<{ kind: string; seq: number | null }>;
}

describe.each(systemBackends())(
  "drill (g): an insider with the database and the KEK rewrites or truncates the audit log [%s]",
  (backend) => {
    let dir: string;
    let payData: string;
    let issuerDatabase: FreshDatabase;
    let payDatabase: FreshDatabase;
    /** The second copy of the pay database, taken after the witness saw the log (PostgreSQL only). */
    let snapshotUrl: string | undefined;
    let issuer: IssuerProcess | undefined;
    let pay: PayProcess | undefined;
    let witnessUrl: string;
    const acquirerSecret = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");

    /** `mpay` with nothing but the variables given (the operator's: the pay data folder and database). */
    const mpay = (env: Record<string, string>, ...args: string[]): CliAnswer => {
      const result = spawnSync(process.execPath, [MPAY_CLI, ...args], {
        cwd: ROOT,
        env: { PATH: process.env["PATH"] ?? "", LOG_LEVEL: "error", ...env },
        encoding: "utf8",
        timeout: 180_000,
      });
      return { code: result.status, stdout: result.stdout, stderr: result.stderr };
    };
    const operatorEnv = (copy: "live" | "snapshot"): Record<string, string> => {
      const url = copy === "live" ? payDatabase.url : snapshotUrl;
      return {
        MPAY_DATA_DIR: copy === "live" || backend === "postgres" ? payData : `${payData}-snapshot`,
        ...(url ? { DATABASE_URL: url } : {}),
      };
    };
    /** Someone who has the export file, the public key and the witness's URL: no database, no key file, no secret. */
    const outsiderVerify = (file: string, ...extra: string[]): { code: number | null; report: Report } => {
      const answer = mpay(
        { MPAY_DATA_DIR: join(dir, "outsider"), DATABASE_URL: "postgres://nobody@127.0.0.1:1/none" },
        "audit",
        "verify",
        "--key",
        join(dir, "audit-key.json"),
        file,
        "--json",
        ...extra,
      );
      expect(answer.stderr).toBe("");
      return { code: answer.code, report: JSON.parse(answer.stdout) as Report };
    };
    const exportLog = (copy: "live" | "snapshot", name: string): string => {
      const file = join(dir, name);
      const answer = mpay(operatorEnv(copy), "audit", "export", "--out", file, "--json");
      expect(answer.code, answer.stderr).toBe(0);
      return file;
    };
    const witnessed = async () => witnessedHeadsSchema.parse(await (await fetch(witnessUrl)).json());
    const sizeOf = (jws: string) =>
      (JSON.parse(Buffer.from(jws.split(".")[1]!, "base64url").toString()) as { size: number }).size;
    const payEnv = (copy: "live" | "snapshot"): Record<string, string> => ({
      ...operatorEnv(copy),
      MPAY_ISSUER_URL: issuer!.url,
      MPAY_ISSUER_ACQUIRER_SECRET: acquirerSecret,
      MPAY_AUDIT_WITNESS_URL: witnessUrl,
      MPAY_EXPIRY_INTERVAL_MS: "200",
    });

    /** The insider's hands on the database: the pay server's own database code, with the owner's rights. */
    async function asInsider<T>(copy: "live" | "snapshot", work: (database: Database) => Promise<T>): Promise<T> {
      const url = copy === "live" ? payDatabase.url : snapshotUrl;
      const database = await openDatabase(url ? { url } : { dataDir: join(operatorEnv(copy)["MPAY_DATA_DIR"]!, "db") });
      try {
        await database.db.execute(sql`alter table audit_log disable trigger audit_log_append_only`);
        await database.db.execute(sql`alter table audit_signed_heads disable trigger audit_signed_heads_append_only`);
        return await work(database);
      } finally {
        await database.db.execute(sql`alter table audit_log enable trigger audit_log_append_only`);
        await database.db.execute(sql`alter table audit_signed_heads enable trigger audit_signed_heads_append_only`);
        await database.close();
      }
    }

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), "mpay-drill-g-"));
      payData = join(dir, "pay");
      [issuerDatabase, payDatabase] = await Promise.all([
        freshDatabase(backend, "issuer_test"),
        freshDatabase(backend, "mpay_test"),
      ]);
      issuer = await startIssuerProcess({
        ISSUER_DATA_DIR: join(dir, "issuer"),
        ...fixtureIssuerEnv(["sampo"]),
        ISSUER_ACQUIRER_SECRET: acquirerSecret,
        ...(issuerDatabase.url ? { ISSUER_DATABASE_URL: issuerDatabase.url } : {}),
      });
      witnessUrl = `${issuer.url}/issuers/sampo/audit-heads`;
    }, SLOW);

    afterAll(async () => {
      await Promise.allSettled([pay?.stop(), issuer?.stop()]);
      if (snapshotUrl) {
        const admin = new pg.Client({ connectionString: process.env["DATABASE_URL"] });
        await admin.connect();
        await admin.query(`drop database if exists ${new URL(snapshotUrl).pathname.slice(1)} with (force)`);
        await admin.end();
      }
      await Promise.allSettled([issuerDatabase?.drop(), payDatabase?.drop()]);
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it("the pay server signs every head and the witness keeps them; the untouched log verifies against the witness", {
      timeout: SLOW,
    }, async () => {
      const created = mpay(operatorEnv("live"), "merchant", "create", "--name", "Drill Shop", "--json");
      expect(created.code, created.stderr).toBe(0);
      const merchant = JSON.parse(created.stdout) as { secretKey: string };

      pay = await startPayProcess(payEnv("live"));
      for (let i = 1; i <= 4; i++) {
        const endpoint = await api(
          pay.url,
          "POST",
          "/v1/webhook-endpoints",
          merchant.secretKey,
          { url: `http://127.0.0.1:9/hook-${i}` },
          { "idempotency-key": `drill-g-${i}` },
        );
        expect(endpoint.status).toBe(200);
        // Sealed and witnessed before the next (group commit would batch entries that come within a few ms): a head
        // at every size from 2, the merchant's two entries sealed together when the CLI command ended.
        await expect
          .poll(async () => (await witnessed()).heads.map((h) => sizeOf(h.head)).at(-1), {
            timeout: 60_000,
            interval: 100,
          })
          .toBe(2 + i);
      }
      // The published key is the one the operator's CLI prints.
      const published = await api<{ keys: Array<{ kid: string }> }>(
        pay.url,
        "GET",
        "/.well-known/mpay-audit-key",
        null,
      );
      await expect
        .poll(async () => (await witnessed()).heads.map((h) => sizeOf(h.head)).at(-1), {
          timeout: 60_000,
          interval: 250,
        })
        .toBe(6);
      await pay.stop();
      pay = undefined;

      const key = mpay(operatorEnv("live"), "audit", "key", "--json");
      expect(key.code, key.stderr).toBe(0);
      expect(JSON.parse(key.stdout)).toEqual(published.body);
      await writeFile(join(dir, "audit-key.json"), key.stdout);
      expect((await witnessed()).key?.kid).toBe(published.body.keys[0]!.kid);

      const honest = outsiderVerify(exportLog("live", "honest.jsonl"), "--witness", witnessUrl);
      expect(honest.code).toBe(0);
      expect(honest.report).toMatchObject({ ok: true, entries: 6, heads: 5, problems: [] });
      expect(honest.report.witnessedHeads).toBeGreaterThanOrEqual(1);

      // A copy of the database as it is now, for the truncation case below.
      if (payDatabase.url) {
        snapshotUrl = payDatabase.url.replace(/\/([^/]+)$/, "/$1_snapshot");
        const admin = new pg.Client({ connectionString: process.env["DATABASE_URL"] });
        await admin.connect();
        await admin.query(
          `create database ${new URL(snapshotUrl).pathname.slice(1)} template ${new URL(payDatabase.url).pathname.slice(1)}`,
        );
        await admin.end();
      } else {
        await cp(payData, `${payData}-snapshot`, { recursive: true });
      }
    });

    it("a rewrite before a witnessed head, re-chained and re-signed with the KEK, fails against the witness", {
      timeout: SLOW,
    }, async () => {
      const keys = await openDevKeyProvider({ keyFile: join(payData, DEV_KEY_FILE_NAME), log: () => undefined });
      let forgedNewest = "";
      try {
        await asInsider("live", async ({ db }) => {
          // Entry 3 (the first webhook endpoint) now says another URL; every later entry and head is made anew.
          const rows = await queryRows<{
            seq: number;
            at: string;
            actor: string;
            action: string;
            target: string | null;
            data: Record<string, unknown>;
            prev_hash: string;
          }>(
            db,
            sql`select seq::int as seq, at, actor, action, target, data, prev_hash from audit_log where seq >= 3 order by seq`,
          );
          let prevHash = rows[0]!.prev_hash;
          for (const row of rows) {
            const data = row.seq === 3 ? { ...row.data, url: "http://127.0.0.1:9/the-insiders-own" } : row.data;
            const fields = { seq: row.seq, at: row.at, actor: row.actor, action: row.action, target: row.target, data };
            const hash = entryHash(prevHash, fields);
            const head = await signHead(keys, { chain: "main", size: row.seq, hash, timestamp: row.at });
            await db.execute(
              sql`update audit_log set data = ${JSON.stringify(data)}::jsonb, prev_hash = ${prevHash}, hash = ${hash} where seq = ${row.seq}`,
            );
            await db.execute(
              sql`update audit_signed_heads set hash = ${hash}, jws = ${head.jws} where size = ${row.seq}`,
            );
            prevHash = hash;
            forgedNewest = head.jws;
          }
        });
      } finally {
        await keys.close();
      }

      const forged = exportLog("live", "rewritten.jsonl");
      expect(await readFile(forged, "utf8")).toContain("the-insiders-own");
      // With the KEK the forgery is perfect for the key alone: every link and every signature holds.
      expect(outsiderVerify(forged)).toMatchObject({ code: 0, report: { ok: true, entries: 6, heads: 5 } });
      // The witness kept the heads of the log as it was.
      const caught = outsiderVerify(forged, "--witness", witnessUrl);
      expect(caught.code).toBe(1);
      expect(caught.report.ok).toBe(false);
      expect(caught.report.problems.map((p) => p.kind)).toEqual(["witnessed_head_mismatch"]);
      // The operator's check of the database says the same.
      const operator = mpay(operatorEnv("live"), "audit", "verify", "--witness", witnessUrl, "--json");
      expect(operator.code).toBe(1);
      expect((JSON.parse(operator.stdout) as Report).problems.map((p) => p.kind)).toEqual(["witnessed_head_mismatch"]);

      // Nor can the insider talk the witness round with the acquirer secret: another head at a size it holds is refused.
      const pushed = await api(issuer!.url, "POST", "/issuers/sampo/audit-heads", acquirerSecret, {
        head: forgedNewest,
        key: JSON.parse(await readFile(join(dir, "audit-key.json"), "utf8")).keys[0],
      });
      expect(pushed.status).toBe(409);
      expect(pushed.body).toMatchObject({ error: { code: "audit_head_forked" } });
      expect((await witnessed()).heads.every((h) => h.head !== forgedNewest)).toBe(true);
    });

    it("a truncation back to an older, genuinely signed head fails against the witness, and the restarted server reports it", {
      timeout: SLOW,
    }, async () => {
      await asInsider("snapshot", async ({ db }) => {
        await db.execute(sql`delete from audit_log where seq > 4`);
        await db.execute(sql`delete from audit_signed_heads where size > 4`);
      });
      const truncated = exportLog("snapshot", "truncated.jsonl");
      // Alone, a log cut back to an older head is a valid log: this is exactly what the witness is for.
      expect(outsiderVerify(truncated)).toMatchObject({ code: 0, report: { ok: true, entries: 4, heads: 3 } });
      const caught = outsiderVerify(truncated, "--witness", witnessUrl);
      expect(caught.code).toBe(1);
      expect(caught.report.problems.map((p) => p.kind)).toEqual(["witnessed_head_missing"]);

      // The server, started on the truncated database, sends its newest head: the witness refuses it, the log says so.
      pay = await startPayProcess(payEnv("snapshot"));
      await expect.poll(() => pay!.output(), { timeout: 60_000, interval: 250 }).toMatch(/audit_head_shrunk/);
      await pay.stop();
      pay = undefined;
      expect((await witnessed()).heads.map((h) => sizeOf(h.head)).at(-1)).toBe(6);
    });
  },
);
