import { mkdtemp, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { secretFromFile, type SecretFilePolicy } from "./secret-file.ts";

const EVERY_CALL: SecretFilePolicy = { recheckAfterMs: 0, missingRecheckAfterMs: 0 };
const A = "a".repeat(43);
const B = "b".repeat(43);
const AN_HOUR_AGO = new Date(Date.now() - 3_600_000);

describe("a secret from a file, kept in memory", () => {
  let dir = "";
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "mpay-secret-file-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const write = async (file: string, secret: string, mtime?: Date) => {
    await writeFile(file, JSON.stringify({ secret }));
    if (mtime) await utimes(file, mtime, mtime);
  };

  it("is read again only when the file's stat changed", async () => {
    const file = join(dir, "settled.json");
    await write(file, A, AN_HOUR_AGO);
    expect(await secretFromFile(file, "secret", EVERY_CALL)).toBe(A);
    // Same inode, size and mtime: the content is not looked at, so a rewrite that hides from stat serves the old one
    // (which is how this test sees that the file is not read on every call).
    await write(file, B, AN_HOUR_AGO);
    expect(await secretFromFile(file, "secret", EVERY_CALL)).toBe(A);
    // Any real rewrite moves the mtime: read again.
    await utimes(file, new Date(), new Date());
    expect(await secretFromFile(file, "secret", EVERY_CALL)).toBe(B);
  });

  it("reads a file modified just before it was read again at the next look (a rewrite in the same clock tick)", async () => {
    const file = join(dir, "racy.json");
    await write(file, A);
    const { mtime } = await stat(file);
    expect(await secretFromFile(file, "secret", EVERY_CALL)).toBe(A);
    await write(file, B, mtime); // same size, same mtime, same inode: only the racy rule sees it
    expect(await secretFromFile(file, "secret", EVERY_CALL)).toBe(B);
  });

  it("serves from memory for the policy's interval, and a missing or unusable file is null until it is fixed", async () => {
    const file = join(dir, "timed.json");
    const policy: SecretFilePolicy = { recheckAfterMs: 1_000, missingRecheckAfterMs: 100 };
    let now = 5_000_000;
    const at = () => now;
    expect(await secretFromFile(file, "secret", policy, at)).toBeNull(); // missing
    await write(file, A);
    now += 99;
    expect(await secretFromFile(file, "secret", policy, at)).toBeNull(); // still taken as missing
    now += 1;
    expect(await secretFromFile(file, "secret", policy, at)).toBe(A);
    await write(file, B);
    now += 999;
    expect(await secretFromFile(file, "secret", policy, at)).toBe(A);
    now += 1;
    expect(await secretFromFile(file, "secret", policy, at)).toBe(B);
    // Too short, the wrong field, not JSON: null, never the file's content.
    for (const content of [JSON.stringify({ secret: "short" }), JSON.stringify({ other: A }), "{not json", "null"]) {
      await writeFile(file, content);
      now += 1_000;
      expect(await secretFromFile(file, "secret", policy, at)).toBeNull();
    }
  });
});
