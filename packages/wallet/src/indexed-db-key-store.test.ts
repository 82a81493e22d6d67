import "fake-indexeddb/auto";
import { describe, expect, it } from "vitest";
import { isWalletError } from "./errors.ts";
import { IndexedDbKeyStore } from "./indexed-db-key-store.ts";
import { runKeyStoreCases } from "./key-store.case.ts";

let databases = 0;
const names = new WeakMap<object, string>();

runKeyStoreCases("IndexedDbKeyStore (fake-indexeddb)", {
  async create() {
    const databaseName = `mpay-wallet-test-${++databases}`;
    const store = new IndexedDbKeyStore({ databaseName });
    names.set(store, databaseName);
    return store;
  },
  async reopen(store) {
    await (store as IndexedDbKeyStore).close();
    return new IndexedDbKeyStore({ databaseName: names.get(store) ?? "" });
  },
});

describe("IndexedDbKeyStore", () => {
  it("refuses an extractable private or secret key, so that nothing stored here can be exported", async () => {
    const store = new IndexedDbKeyStore({ databaseName: "mpay-wallet-test-extractable" });
    const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
    const aes = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, true, ["encrypt"]);
    await expect(store.put("device-key", { type: "keyPair", keyPair: pair })).rejects.toSatisfy((e) =>
      isWalletError(e, "key_extractable"),
    );
    await expect(store.put("wrap-key", { type: "key", key: aes })).rejects.toSatisfy((e) =>
      isWalletError(e, "key_extractable"),
    );
    expect(await store.get("device-key")).toBeUndefined();
    // A public key alone is always extractable and may be kept.
    await store.put("issuer-key", { type: "key", key: pair.publicKey });
    expect((await store.get("issuer-key"))?.type).toBe("key");
  });

  it("stores the CryptoKey object itself (structured clone), not an export of it", async () => {
    const store = new IndexedDbKeyStore({ databaseName: "mpay-wallet-test-clone" });
    const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
    await store.put("device-key", { type: "keyPair", keyPair: pair });
    const record = await store.get("device-key");
    if (record?.type !== "keyPair") throw new Error("expected a key pair");
    expect(record.keyPair.privateKey).toBeInstanceOf(CryptoKey);
    expect(record.keyPair.privateKey).not.toBe(pair.privateKey);
    expect(record.keyPair.privateKey.extractable).toBe(false);
  });

  it("says plainly when there is no IndexedDB", async () => {
    const original = globalThis.indexedDB;
    Reflect.deleteProperty(globalThis, "indexedDB");
    try {
      await expect(new IndexedDbKeyStore().get("x")).rejects.toSatisfy((e) =>
        isWalletError(e, "key_store_unavailable"),
      );
    } finally {
      globalThis.indexedDB = original;
    }
  });
});
