import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshDatabase, systemBackends, testBackends, type FreshDatabase } from "../../testing/databases.ts";
import { holdEmbeddedDatabase, mpay as mpayHere, spawnMpay } from "../../testing/mpay-cli.ts";

// The commands run in this process (testing/mpay-cli.ts), beside a database held as a running server holds it;
// on one backend the outsider's check of an edited file runs as a real `mpay` process (its exit code 1).
describe.each(testBackends())("mpay audit key | export | verify [%s]", (backend) => {
  let dir: string;
  let database: FreshDatabase;
  let held: { close(): Promise<void> };
  const env = () => ({ MPAY_DATA_DIR: join(dir, "pay"), ...(database.url ? { DATABASE_URL: database.url } : {}) });
  const mpay = (...args: string[]) => mpayHere(args, env());
  /** Someone with the file and the public key only: no data folder, no key file, a database that does not exist. */
  const outsiderEnv = () => ({ MPAY_DATA_DIR: join(dir, "empty"), DATABASE_URL: "postgres://nobody@127.0.0.1:1/none" });
  const outsider = (...args: string[]) => mpayHere(args, outsiderEnv());

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "mpay-audit-cli-"));
    database = await freshDatabase(backend);
    held = await holdEmbeddedDatabase(env());
  });
  afterAll(async () => {
    await held.close();
    await database.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it("prints the key, exports the log, and anyone verifies the file with the key alone", {
    timeout: 180_000,
  }, async () => {
    // Two entries each (merchant.created, api_key.created), sealed as one batch under one head as the command
    // ends: heads at sizes 2 and 4.
    expect((await mpay("merchant", "create", "--name", "Audit Shop", "--json")).code).toBe(0);
    expect((await mpay("merchant", "create", "--name", "Audit Shop 2", "--json")).code).toBe(0);
    const key = await mpay("audit", "key", "--json");
    expect(key.code).toBe(0);
    const jwks = JSON.parse(key.stdout) as { keys: Array<{ kid: string; kty: string; crv: string }> };
    expect(jwks.keys).toEqual([
      expect.objectContaining({
        kty: "EC",
        crv: "P-256",
        kid: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
        alg: "ES256",
      }),
    ]);
    await writeFile(join(dir, "key.json"), key.stdout);

    const exported = await mpay("audit", "export", "--out", join(dir, "log.jsonl"), "--json");
    expect(exported.code).toBe(0);
    expect(JSON.parse(exported.stdout)).toEqual({ out: join(dir, "log.jsonl"), entries: 4, heads: 2 });
    expect(await mpay("audit", "export", "--out", join(dir, "log.jsonl"), "--json")).toMatchObject({
      code: 1,
      stderr: expect.stringContaining("audit_out_exists"),
    });

    const verified = await outsider(
      "audit",
      "verify",
      "--key",
      join(dir, "key.json"),
      join(dir, "log.jsonl"),
      "--json",
    );
    expect(verified.stderr).toBe("");
    expect(verified.code).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true, entries: 4, heads: 2, problems: [] });

    // The same file with one entry's action changed fails, with exit code 1 and the problem named.
    const text = await readFile(join(dir, "log.jsonl"), "utf8");
    await writeFile(
      join(dir, "edited.jsonl"),
      text.replace('"action":"merchant.created"', '"action":"merchant.viewed"'),
    );
    const checkEdited = ["audit", "verify", "--key", join(dir, "key.json"), join(dir, "edited.jsonl")];
    const edited =
      backend === systemBackends()[0] ? await spawnMpay(checkEdited, outsiderEnv()) : await outsider(...checkEdited);
    expect(edited.code).toBe(1);
    expect(edited.stdout).toMatch(/audit log TAMPERED/);
    expect(edited.stdout).toMatch(/edited at seq 1/);

    // Checked against a witness's heads file: the truncated log lacks the head it kept.
    const lines = text.trimEnd().split("\n");
    const heads = lines
      .filter((l) => l.includes('"kind":"head"'))
      .map((l) => ({ head: (JSON.parse(l) as { jws: string }).jws, receivedAt: "2026-01-01T00:00:00.000Z" }));
    await writeFile(join(dir, "witness.json"), JSON.stringify({ key: jwks.keys[0], heads }));
    const truncated = [lines[0], lines[1], lines[2], lines.find((l) => l.includes('"kind":"head"'))].join("\n");
    await writeFile(join(dir, "truncated.jsonl"), `${truncated}\n`);
    expect((await outsider("audit", "verify", "--key", join(dir, "key.json"), join(dir, "truncated.jsonl"))).code).toBe(
      0,
    );
    const caught = await outsider(
      "audit",
      "verify",
      "--key",
      join(dir, "key.json"),
      join(dir, "truncated.jsonl"),
      "--witness",
      join(dir, "witness.json"),
      "--json",
    );
    expect(caught.code).toBe(1);
    expect(JSON.parse(caught.stdout)).toMatchObject({
      ok: false,
      witnessedHeads: 2,
      problems: [expect.objectContaining({ kind: "witnessed_head_missing", seq: 4 })],
    });

    // The operator's check against the database takes the witness too.
    const checked = await mpay("audit", "verify", "--witness", join(dir, "witness.json"), "--json");
    expect(JSON.parse(checked.stdout)).toMatchObject({
      ok: true,
      entries: 4,
      witnessedHeads: 2,
    });
  });

  it("refuses bad input with a stable code and a non-zero exit", async () => {
    const noKey = await outsider("audit", "verify", join(dir, "log.jsonl"));
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toMatch(/audit_usage: .*--key/);
    await writeFile(
      join(dir, "wrong-kid.json"),
      JSON.stringify({ kty: "EC", crv: "P-256", x: "A".repeat(43), y: "B".repeat(43), kid: "C".repeat(43) }),
    );
    const badKey = await outsider("audit", "verify", "--key", join(dir, "wrong-kid.json"), join(dir, "log.jsonl"));
    expect(badKey.stderr).toMatch(/audit_key_invalid: .*thumbprint/);
    await writeFile(join(dir, "junk.jsonl"), "hello\n");
    const junk = await outsider("audit", "verify", "--key", join(dir, "key.json"), join(dir, "junk.jsonl"));
    expect(junk.code).toBe(1);
    expect(junk.stderr).toMatch(/audit_file_invalid: line 1 .* is not JSON/);
    const unreachable = await outsider(
      "audit",
      "verify",
      "--key",
      join(dir, "key.json"),
      join(dir, "log.jsonl"),
      "--witness",
      "http://127.0.0.1:1/issuers/sampo/audit-heads",
    );
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/witness_unavailable/);
  });
});
