import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CLIENT_SECRET_FILE_TTL_MS, MISSING_SECRET_FILE_TTL_MS, messengerClientSecret } from "./messenger-client.ts";

describe("the messenger client secret from the embedded messenger's file", () => {
  let dir = "";
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("is read once per lifetime, not per announcement, and read again after it (the file may be rewritten)", async () => {
    dir = await mkdtemp(join(tmpdir(), "mpay-secret-"));
    const file = join(dir, "client.json");
    const settings = {
      issuer: "http://127.0.0.1:1",
      clientId: "mpay",
      clientSecret: undefined,
      clientSecretFile: file,
    };
    const first = "a".repeat(40);
    const second = "b".repeat(40);
    await writeFile(file, JSON.stringify({ client_secret: first }));
    let now = 1_000_000;
    expect(await messengerClientSecret(settings, () => now)).toBe(first);
    await writeFile(file, JSON.stringify({ client_secret: second }));
    now += CLIENT_SECRET_FILE_TTL_MS - 1;
    expect(await messengerClientSecret(settings, () => now)).toBe(first);
    now += 1;
    expect(await messengerClientSecret(settings, () => now)).toBe(second);
    // A file gone (or broken) is an error with a stable code, and nothing stale is served after it.
    await rm(file);
    now += CLIENT_SECRET_FILE_TTL_MS;
    await expect(messengerClientSecret(settings, () => now)).rejects.toMatchObject({ code: "messenger_unavailable" });
    // A missing file is looked at again soon, not on every announcement: written meanwhile, it is read after that.
    await writeFile(file, JSON.stringify({ client_secret: first }));
    now += MISSING_SECRET_FILE_TTL_MS - 1;
    await expect(messengerClientSecret(settings, () => now)).rejects.toMatchObject({ code: "messenger_unavailable" });
    now += 1;
    expect(await messengerClientSecret(settings, () => now)).toBe(first);
  });

  it("prefers the configured secret and reads no file for it", async () => {
    const settings = {
      issuer: "http://127.0.0.1:1",
      clientId: "mpay",
      clientSecret: "c".repeat(40),
      clientSecretFile: "/nonexistent/client.json",
    };
    expect(await messengerClientSecret(settings)).toBe("c".repeat(40));
  });
});
