import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openDevKeyProvider } from "./dev-provider.ts";
import type { DevKeyProvider } from "./dev-provider.ts";
import { KeyProviderError } from "../provider.ts";
import type { KeyProviderErrorCode } from "../provider.ts";

const enc = new TextEncoder();
const SECRET = "whsec_MfKQ9r4gKGcJv1zX8YpQw2NtL5aVbH3e";
const AAD = "webhook_endpoint:we_123";

let dir: string;
const opened: DevKeyProvider[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "mpay-dev-keys-"));
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((p) => p.close()));
  await rm(dir, { recursive: true, force: true });
});

async function provider(file = join(dir, "dev-keys.json"), log: (msg: string) => void = () => undefined) {
  const p = await openDevKeyProvider({ keyFile: file, log });
  opened.push(p);
  return p;
}

async function expectCode(promise: Promise<unknown>, code: KeyProviderErrorCode): Promise<KeyProviderError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(KeyProviderError);
  expect((error as KeyProviderError).code).toBe(code);
  return error as KeyProviderError;
}

/** Replaces one character of the base64url payload with another, keeping the string well-formed. */
function flipChar(sealed: string, index: number): string {
  const chars = [...sealed];
  const at = sealed.lastIndexOf(".") + 1 + index;
  chars[at] = chars[at] === "A" ? "B" : "A";
  return chars.join("");
}

/** Every text form of `bytes` we could imagine leaking: utf8, hex, and base64(url) at each of the 3 alignments. */
function encodingsOf(bytes: Buffer): string[] {
  const forms = [bytes.toString("utf8"), bytes.toString("hex"), bytes.toString("hex").toUpperCase()];
  for (const shift of [0, 1, 2]) {
    const padded = Buffer.concat([Buffer.alloc(shift), bytes]);
    for (const encoding of ["base64", "base64url"] as const) {
      // Drop the first and last 4 characters: those mix in neighbouring bytes or padding.
      forms.push(padded.toString(encoding).slice(4, -4));
    }
  }
  return forms;
}

function leaks(text: string, bytes: Buffer): boolean {
  return encodingsOf(bytes).some((form) => text.includes(form));
}

describe("dev key provider: seal and open", () => {
  it("round-trips, including an empty plaintext", async () => {
    const p = await provider();
    const sealed = await p.seal("webhook-secret", enc.encode(SECRET), AAD);
    expect(sealed).toMatch(/^mk1\.1\.[A-Za-z0-9_-]+$/);
    expect(Buffer.from(await p.open("webhook-secret", sealed, AAD)).toString()).toBe(SECRET);
    const empty = await p.seal("webhook-secret", new Uint8Array(0), AAD);
    expect((await p.open("webhook-secret", empty, AAD)).length).toBe(0);
  });

  it("uses a fresh nonce per seal", async () => {
    const p = await provider();
    const a = await p.seal("webhook-secret", enc.encode(SECRET), AAD);
    const b = await p.seal("webhook-secret", enc.encode(SECRET), AAD);
    expect(a).not.toBe(b);
  });

  it("refuses a wrong aad, a wrong purpose and every flipped character", async () => {
    const p = await provider();
    const sealed = await p.seal("webhook-secret", enc.encode(SECRET), AAD);
    await expectCode(p.open("webhook-secret", sealed, "webhook_endpoint:we_124"), "seal_invalid");
    await expectCode(p.open("webhook-signing-key", sealed, AAD), "seal_invalid");
    const payloadLength = sealed.length - sealed.lastIndexOf(".") - 1;
    for (let i = 0; i < payloadLength; i++) {
      await expectCode(p.open("webhook-secret", flipChar(sealed, i), AAD), "seal_invalid");
    }
  });

  it("refuses malformed blobs as seal_invalid and unknown versions as key_version_unknown", async () => {
    const p = await provider();
    const sealed = await p.seal("webhook-secret", enc.encode(SECRET), AAD);
    const payload = sealed.split(".")[2] ?? "";
    for (const bad of [
      "",
      "mk1",
      "mk1.1",
      `mk2.1.${payload}`,
      `mk1.01.${payload}`,
      `mk1.x.${payload}`,
      `mk1.1.${payload}=`,
      `mk1.1.${payload}.x`,
      "mk1.1.AAAA",
    ]) {
      await expectCode(p.open("webhook-secret", bad, AAD), "seal_invalid");
    }
    await expectCode(p.open("webhook-secret", `mk1.7.${payload}`, AAD), "key_version_unknown");
  });

  it("never shows the plaintext in the sealed string, nor key bytes or plaintext in errors and logs", async () => {
    const logs: string[] = [];
    const file = join(dir, "dev-keys.json");
    const p = await provider(file, (m) => logs.push(m));
    const secret = Buffer.from(SECRET);
    const sealed = await p.seal("webhook-secret", secret, AAD);
    expect(leaks(sealed, secret)).toBe(false);
    // The check itself works: a blob that carried the plaintext in clear is caught at any offset.
    for (const prefix of [0, 1, 2, 12]) {
      expect(leaks(Buffer.concat([Buffer.alloc(prefix), secret, Buffer.alloc(16)]).toString("base64url"), secret)).toBe(
        true,
      );
    }

    const stored = JSON.parse(await readFile(file, "utf8")) as { keys: Record<string, string> };
    const master = Buffer.from(stored.keys["1"] ?? "", "base64");
    const error = await expectCode(p.open("webhook-secret", sealed, "other"), "seal_invalid");
    for (const text of [error.message, String(error.stack), ...logs]) {
      expect(leaks(text, master)).toBe(false);
      expect(leaks(text, secret)).toBe(false);
    }
    expect(error.cause).toBeUndefined();
  });
});

describe("dev key provider: MAC", () => {
  it("verifies its own tags and refuses altered data or tags", async () => {
    const p = await provider();
    const data = enc.encode("audit head 42 ab12");
    const { keyVersion, tag } = await p.mac("audit-head", data);
    expect(keyVersion).toBe(1);
    expect(tag).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await p.verifyMac("audit-head", data, tag, 1)).toBe(true);
    expect(await p.verifyMac("audit-head", enc.encode("audit head 43 ab12"), tag, 1)).toBe(false);
    expect(await p.verifyMac("webhook-secret", data, tag, 1)).toBe(false);
    expect(await p.verifyMac("audit-head", data, `${tag[0] === "A" ? "B" : "A"}${tag.slice(1)}`, 1)).toBe(false);
    expect(await p.verifyMac("audit-head", data, tag.slice(0, -1), 1)).toBe(false);
    expect(await p.verifyMac("audit-head", data, "", 1)).toBe(false);
    await expectCode(p.verifyMac("audit-head", data, tag, 2), "key_version_unknown");
    await expectCode(p.verifyMac("audit-head", data, tag, 0), "key_version_unknown");
  });

  it("uses a different key for MACs than for seals of the same purpose", async () => {
    const p = await provider();
    const a = await p.mac("webhook-secret", enc.encode("x"));
    const b = await p.mac("audit-head", enc.encode("x"));
    expect(a.tag).not.toBe(b.tag);
  });
});

describe("dev key provider: key file", () => {
  it("creates the file with mode 0600, and its missing folders", async () => {
    const file = join(dir, "nested", "data", "dev-keys.json");
    const logs: string[] = [];
    await provider(file, (m) => logs.push(m));
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>;
    expect(stored).toMatchObject({ format: "mpay-dev-keys/1", current: 1 });
    expect(Buffer.from((stored.keys as Record<string, string>)["1"] ?? "", "base64")).toHaveLength(32);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatch(/development only/);
    expect(logs[0]).toMatch(/plain file/);
  });

  it("two processes creating the file at once end up with the same key", async () => {
    const file = join(dir, "dev-keys.json");
    const [a, b] = await Promise.all([provider(file), provider(file)]);
    const sealed = await a.seal("webhook-secret", enc.encode(SECRET), AAD);
    expect(Buffer.from(await b.open("webhook-secret", sealed, AAD)).toString()).toBe(SECRET);
  });

  it("after a restart opens old blobs and verifies old MACs", async () => {
    const first = await provider();
    const sealed = await first.seal("webhook-signing-key", enc.encode(SECRET), AAD);
    const { tag, keyVersion } = await first.mac("audit-head", enc.encode("head"));
    await first.close();
    const second = await provider();
    expect(Buffer.from(await second.open("webhook-signing-key", sealed, AAD)).toString()).toBe(SECRET);
    expect(await second.verifyMac("audit-head", enc.encode("head"), tag, keyVersion)).toBe(true);
  });

  it("another key file opens nothing and verifies nothing", async () => {
    const a = await provider(join(dir, "a.json"));
    const b = await provider(join(dir, "b.json"));
    const sealed = await a.seal("webhook-secret", enc.encode(SECRET), AAD);
    const { tag } = await a.mac("audit-head", enc.encode("head"));
    await expectCode(b.open("webhook-secret", sealed, AAD), "seal_invalid");
    expect(await b.verifyMac("audit-head", enc.encode("head"), tag, 1)).toBe(false);
  });

  it("refuses a corrupt key file without quoting it", async () => {
    const file = join(dir, "dev-keys.json");
    const junk = "c2VjcmV0LWtleS1ieXRlcw==";
    for (const content of [
      `{"format":"mpay-dev-keys/1",${junk}`,
      JSON.stringify({ format: "mpay-dev-keys/1", current: 1, keys: { [junk]: 1 } }),
      JSON.stringify({ format: "mpay-dev-keys/1", current: 2, keys: { "1": Buffer.alloc(32).toString("base64") } }),
      JSON.stringify({ format: "mpay-dev-keys/1", current: 1, keys: { "1": junk } }),
    ]) {
      await writeFile(file, content, { mode: 0o600 });
      const error = await expectCode(
        openDevKeyProvider({ keyFile: file, log: () => undefined }),
        "provider_misconfigured",
      );
      expect(error.message).not.toContain(junk);
    }
  });

  it("warns when the file is readable by others", async () => {
    const file = join(dir, "dev-keys.json");
    await (await provider(file)).close();
    const { chmod } = await import("node:fs/promises");
    await chmod(file, 0o644);
    const logs: string[] = [];
    await provider(file, (m) => logs.push(m));
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatch(/chmod 600/);
  });

  it("refuses to go on when the key file was replaced under it", async () => {
    const file = join(dir, "dev-keys.json");
    const p = await provider(file);
    await rm(file);
    await provider(file); // a new file with another version 1
    await expectCode(p.rotate(), "provider_misconfigured");
  });

  it("stops serving after close", async () => {
    const p = await provider();
    await p.close();
    await expectCode(p.seal("webhook-secret", enc.encode(SECRET), AAD), "vault_sealed");
    await expectCode(p.mac("audit-head", enc.encode("x")), "vault_sealed");
  });
});

describe("dev key provider: rotation", () => {
  it("seals with the new version while old blobs still open, also after a restart", async () => {
    const file = join(dir, "dev-keys.json");
    const p = await provider(file);
    const old = await p.seal("webhook-secret", enc.encode("old"), AAD);
    const oldMac = await p.mac("audit-head", enc.encode("head"));
    expect(await p.rotate()).toBe(2);
    expect(p.currentKeyVersion()).toBe(2);
    const fresh = await p.seal("webhook-secret", enc.encode("new"), AAD);
    expect(fresh.startsWith("mk1.2.")).toBe(true);
    expect((await p.mac("audit-head", enc.encode("head"))).keyVersion).toBe(2);
    expect(Buffer.from(await p.open("webhook-secret", old, AAD)).toString()).toBe("old");
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(await readFile(file, "utf8")) as { current: number; keys: Record<string, string> };
    expect(stored.current).toBe(2);
    expect(Object.keys(stored.keys).sort()).toEqual(["1", "2"]);

    await p.close();
    const restarted = await provider(file);
    expect(restarted.currentKeyVersion()).toBe(2);
    expect(Buffer.from(await restarted.open("webhook-secret", old, AAD)).toString()).toBe("old");
    expect(Buffer.from(await restarted.open("webhook-secret", fresh, AAD)).toString()).toBe("new");
    expect(await restarted.verifyMac("audit-head", enc.encode("head"), oldMac.tag, 1)).toBe(true);
  });

  it("concurrent rotations get distinct versions", async () => {
    const p = await provider();
    expect((await Promise.all([p.rotate(), p.rotate(), p.rotate()])).sort()).toEqual([2, 3, 4]);
    expect(p.currentKeyVersion()).toBe(4);
  });

  it("a second process on the same file picks up a rotation when it meets the new version", async () => {
    const file = join(dir, "dev-keys.json");
    const a = await provider(file);
    const b = await provider(file);
    await a.rotate();
    const sealed = await a.seal("webhook-secret", enc.encode(SECRET), AAD);
    expect(Buffer.from(await b.open("webhook-secret", sealed, AAD)).toString()).toBe(SECRET);
    expect(b.currentKeyVersion()).toBe(2);
    expect(await b.rotate()).toBe(3); // and never reuses version 2
  });
});
