import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { calculateJwkThumbprint } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshP256 } from "@mpay/crypto/fresh-key-pair";
import type { AuditPublicJwk } from "@mpay/protocol";
import { testBackends } from "../testing/databases.ts";
import { call, openTestPay, type TestPay } from "../testing/system.ts";
import { AuditFileError, readAuditExport } from "./export-file.ts";
import { checkAuditLog, type AuditReport } from "./log-check.ts";

/**
 * An export checked with nothing but the public key: what the file holds is what is checked, and every edit,
 * deletion, reordering or truncation of the file is found (a truncation only against a witnessed head).
 */
describe.each(testBackends())("audit export verified with the public key alone [%s]", (backend) => {
  let t: TestPay;
  let dir: string;
  let key: AuditPublicJwk;
  let lines: string[];

  const verifyLines = async (
    content: string[],
    witnessed: string[] = [],
    keys: AuditPublicJwk[] = [key],
  ): Promise<AuditReport> => {
    const file = join(dir, `log-${Math.random()}.jsonl`);
    await writeFile(file, `${content.join("\n")}\n`);
    const log = await readAuditExport(file);
    return checkAuditLog(keys, { chain: log.chain, heads: log.heads, entries: log.entries() }, witnessed);
  };
  const kinds = (report: AuditReport) => report.problems.map((p) => p.kind);
  const entryLines = () => lines.filter((l) => l.includes('"kind":"entry"'));
  const headLines = () => lines.filter((l) => l.includes('"kind":"head"'));
  const jwsOf = (line: string) => (JSON.parse(line) as { jws: string }).jws;
  const sizeOf = (line: string) =>
    (JSON.parse(Buffer.from(jwsOf(line).split(".")[1]!, "base64url").toString()) as { size: number }).size;

  beforeAll(async () => {
    t = await openTestPay(backend);
    dir = await mkdtemp(join(tmpdir(), "mpay-audit-export-"));
    for (let i = 1; i <= 4; i++)
      await t.system.audit.record({
        actor: "operator:test",
        action: "admin.action",
        target: `thing-${i}`,
        data: { i, note: "ünïcode ✓" },
      });
    key = await t.system.audit.publicKey();
    lines = [];
    // merchant.created + api key (pending) + 4 records: the first record seals the three under one head, each later
    // one its own, so heads at sizes 3, 4, 5 and 6.
    expect(await t.system.audit.export((line) => void lines.push(line))).toEqual({ entries: 6, heads: 4 });
  });
  afterAll(async () => {
    await t.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("writes a log line, every entry, then every signed head, and the file verifies with the key", async () => {
    expect(JSON.parse(lines[0]!)).toMatchObject({ kind: "log", format: "mpay-audit-log/1", chain: "main" });
    expect(lines.slice(1, 7).every((l) => JSON.parse(l).kind === "entry")).toBe(true);
    expect(lines.slice(7).every((l) => JSON.parse(l).kind === "head")).toBe(true);
    expect(await verifyLines(lines)).toEqual({ ok: true, entries: 6, heads: 4, witnessedHeads: 0, problems: [] });
    expect(await verifyLines(lines, headLines().map(jwsOf))).toMatchObject({ ok: true, witnessedHeads: 4 });
  });

  it("serves the same key at /.well-known/mpay-audit-key", async () => {
    const answer = await call<{ keys: AuditPublicJwk[] }>(t.app, "GET", "/.well-known/mpay-audit-key", null);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ keys: [key] });
  });

  it("finds an edited, a deleted and a reordered entry", async () => {
    const [, e1, e2, e3] = entryLines();
    const edited = lines.map((l) => (l === e2 ? l.replace('"i":1', '"i":7') : l));
    expect(kinds(await verifyLines(edited))).toContain("edited");
    expect(kinds(await verifyLines(lines.filter((l) => l !== e2)))).toContain("deleted");
    const swapped = lines.map((l) => (l === e1 ? e3! : l === e3 ? e1! : l));
    expect(kinds(await verifyLines(swapped))).toContain("reordered");
  });

  it("finds a head that does not verify, or that another key signed", async () => {
    const last = headLines().at(-1)!;
    const [header, payload] = jwsOf(last).split(".");
    const forged = lines.map((l) =>
      l === last ? JSON.stringify({ kind: "head", jws: `${header}.${payload}.${"A".repeat(86)}` }) : l,
    );
    expect(kinds(await verifyLines(forged))).toContain("head_forged");
    const { kty, crv, x, y } = freshP256().publicJwk; // not generateKeyPairSync + JWK export (Node 20 deadlock)
    const stranger = { kty, crv, x, y, kid: await calculateJwkThumbprint({ kty, crv, x, y }, "sha256") };
    const report = await verifyLines(lines, [], [stranger]);
    expect(report).toMatchObject({ ok: false, heads: 0 });
    expect(new Set(kinds(report))).toEqual(new Set(["head_forged", "head_mismatch"]));
  });

  it("passes a truncated file with its older heads, and fails it against a witnessed newer head", async () => {
    const keptEntries = entryLines().slice(0, 4);
    const keptHeads = headLines().filter((l) => sizeOf(l) <= 4);
    expect(keptHeads.map(sizeOf)).toEqual([3, 4]);
    const truncated = [lines[0]!, ...keptEntries, ...keptHeads];
    expect(await verifyLines(truncated)).toMatchObject({ ok: true, entries: 4 });
    const report = await verifyLines(truncated, [jwsOf(headLines().at(-1)!)]);
    expect(kinds(report)).toEqual(["witnessed_head_missing"]);
    // Entries past the newest signed head (appended without the key) are found without any witness.
    expect(kinds(await verifyLines([lines[0]!, ...entryLines(), ...keptHeads]))).toEqual(["head_mismatch"]);
  });

  it("refuses a file that is not an export, naming the line but never quoting it", async () => {
    const file = join(dir, "bad.jsonl");
    const secretish = "whsec_not_really_but_never_echo_me";
    for (const content of [
      [`{"kind":"entry","oops":"${secretish}"}`],
      [lines[0]!, `not json ${secretish}`],
      [lines[0]!, headLines()[0]!, entryLines()[0]!],
      [lines[0]!, lines[0]!],
      [],
    ]) {
      await writeFile(file, content.join("\n"));
      const error = await readAuditExport(file).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(AuditFileError);
      expect((error as AuditFileError).code).toBe("audit_file_invalid");
      expect((error as Error).message).not.toContain(secretish);
    }
    const missing = await readAuditExport(join(dir, "nope.jsonl")).then(
      () => null,
      (e: unknown) => e,
    );
    expect((missing as Error).message).toMatch(/cannot read .*ENOENT/);
    expect(await readFile(file, "utf8")).toBe(""); // reading changes nothing
  });
});
