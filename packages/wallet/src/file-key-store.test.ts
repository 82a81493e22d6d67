import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isWalletError } from "./errors.ts";
import { FileKeyStore } from "./file-key-store.ts";
import { runKeyStoreCases } from "./key-store.case.ts";

let folder = "";
let files = 0;
const where = new WeakMap<object, { path: string; secret: Uint8Array }>();

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), "mpay-file-key-store-"));
});
afterAll(async () => {
  await rm(folder, { recursive: true, force: true });
});

function fresh(): { store: FileKeyStore; path: string; secret: Uint8Array } {
  const path = join(folder, `store-${++files}`, "keys.json");
  const secret = FileKeyStore.newDeviceSecret();
  const store = new FileKeyStore(path, secret);
  where.set(store, { path, secret });
  return { store, path, secret };
}

runKeyStoreCases("FileKeyStore", {
  async create() {
    return fresh().store;
  },
  async reopen(store) {
    const place = where.get(store);
    if (!place) throw new Error("unknown store");
    return new FileKeyStore(place.path, place.secret);
  },
});

describe("FileKeyStore", () => {
  it("writes the file with mode 0600 and leaves no temporary file behind", async () => {
    const { store, path } = fresh();
    await store.put("a", { type: "json", json: 1 });
    await store.put("b", { type: "json", json: 2 });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readdir(join(path, ".."))).toEqual(["keys.json"]);
  });

  it("keeps no key, share or value in clear in the file", async () => {
    const { store, path } = fresh();
    const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
    const privateJwk = await crypto.subtle.exportKey("jwk", pair.privateKey);
    const share = crypto.getRandomValues(new Uint8Array(32));
    await store.put("device-key", { type: "keyPair", keyPair: pair });
    await store.put("k-dev", { type: "bytes", bytes: share });
    await store.put("profile", { type: "json", json: { phone: "+82-10-1234-5678" } });
    const content = await readFile(path, "utf8");
    expect(privateJwk.d).toBeDefined();
    expect(content).not.toContain(privateJwk.d);
    expect(content).not.toContain(privateJwk.x);
    expect(content).not.toContain(Buffer.from(share).toString("base64url"));
    expect(content).not.toContain(Buffer.from(share).toString("hex"));
    expect(content).not.toContain("1234-5678");
  });

  it("cannot be read with another device secret, and says so without detail", async () => {
    const { store, path } = fresh();
    await store.put("k-dev", { type: "bytes", bytes: Uint8Array.of(1, 2, 3) });
    const other = new FileKeyStore(path, FileKeyStore.newDeviceSecret());
    const error = await other.get("k-dev").catch((e: unknown) => e);
    expect(isWalletError(error, "key_store_unreadable")).toBe(true);
    expect((error as Error).cause).toBeUndefined();
  });

  it("binds each record to its name: a record moved to another name does not open", async () => {
    const { store, path } = fresh();
    await store.put("k-dev-card-1", { type: "bytes", bytes: Uint8Array.of(1) });
    await store.put("k-dev-card-2", { type: "bytes", bytes: Uint8Array.of(2) });
    const file = JSON.parse(await readFile(path, "utf8")) as { records: Record<string, unknown> };
    file.records["k-dev-card-2"] = file.records["k-dev-card-1"];
    await writeFile(path, JSON.stringify(file));
    expect(await store.get("k-dev-card-1")).toEqual({ type: "bytes", bytes: Uint8Array.of(1) });
    await expect(store.get("k-dev-card-2")).rejects.toSatisfy((e) => isWalletError(e, "key_store_unreadable"));
  });

  it("refuses a secret that is not 32 bytes, and a non-extractable key it could not keep", async () => {
    expect(() => new FileKeyStore(join(folder, "x.json"), new Uint8Array(16))).toThrow(
      expect.objectContaining({ code: "key_store_secret_invalid" }),
    );
    const { store } = fresh();
    const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
    await expect(store.put("device-key", { type: "keyPair", keyPair: pair })).rejects.toSatisfy((e) =>
      isWalletError(e, "key_not_exportable"),
    );
  });

  it("refuses a file that is not a key store", async () => {
    const path = join(folder, "foreign.json");
    await writeFile(path, '{"hello":"world"}');
    await expect(new FileKeyStore(path, FileKeyStore.newDeviceSecret()).get("x")).rejects.toSatisfy((e) =>
      isWalletError(e, "key_store_unreadable"),
    );
  });

  it("treats names like Object.prototype members as ordinary names", async () => {
    const { store } = fresh();
    await store.put("a", { type: "json", json: 1 });
    expect(await store.get("constructor")).toBeUndefined();
    await store.delete("toString");
  });
});
