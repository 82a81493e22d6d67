/**
 * The conformance suite every `KeyStore` passes (as Hono runs one router suite against every router). Each
 * implementation's test file calls `runKeyStoreCases` with a harness that makes fresh stores.
 */
import { describe, expect, it } from "vitest";
import { keyExtractabilityFor, type KeyStore, type StoredRecord } from "./key-store.ts";

export interface KeyStoreHarness {
  /** A new, empty store. */
  create(): Promise<KeyStore>;
  /** Another instance over the same storage as `store`: a reloaded page, a restarted process. */
  reopen(store: KeyStore): Promise<KeyStore>;
}

const text = new TextEncoder();

async function required(store: KeyStore, name: string): Promise<StoredRecord> {
  const record = await store.get(name);
  if (record === undefined) throw new Error(`record ${name} is missing`);
  return record;
}

export function runKeyStoreCases(label: string, harness: KeyStoreHarness): void {
  describe(`KeyStore conformance: ${label}`, () => {
    it("answers undefined for a name never written", async () => {
      const store = await harness.create();
      expect(await store.get("nothing-here")).toBeUndefined();
    });

    it("keeps bytes as a copy taken at put", async () => {
      const store = await harness.create();
      const bytes = Uint8Array.from([0, 1, 2, 250, 255]);
      await store.put("share", { type: "bytes", bytes });
      bytes.fill(9);
      const record = await required(store, "share");
      expect(record.type).toBe("bytes");
      if (record.type !== "bytes") return;
      expect(record.bytes).toBeInstanceOf(Uint8Array);
      expect([...record.bytes]).toEqual([0, 1, 2, 250, 255]);
    });

    it("keeps JSON values", async () => {
      const store = await harness.create();
      const json = { cardId: "card_1", versions: [1, 2, 3], sealed: null, ok: true, name: "홍길동 ✓" };
      await store.put("versions", { type: "json", json });
      expect(await required(store, "versions")).toEqual({ type: "json", json });
    });

    it("replaces on put, and delete removes one name only (a missing name is not an error)", async () => {
      const store = await harness.create();
      await store.put("a", { type: "json", json: 1 });
      await store.put("b", { type: "json", json: 2 });
      await store.put("a", { type: "json", json: 3 });
      expect(await store.get("a")).toEqual({ type: "json", json: 3 });
      await store.delete("a");
      await store.delete("a");
      await store.delete("never-written");
      expect(await store.get("a")).toBeUndefined();
      expect(await store.get("b")).toEqual({ type: "json", json: 2 });
    });

    it("gives back an ECDSA key pair whose private key is non-extractable and still signs", async () => {
      const store = await harness.create();
      const pair = await crypto.subtle.generateKey(
        { name: "ECDSA", namedCurve: "P-256" },
        keyExtractabilityFor(store),
        ["sign", "verify"],
      );
      await store.put("device-key", { type: "keyPair", keyPair: pair });
      const record = await required(store, "device-key");
      if (record.type !== "keyPair") throw new Error(`expected a key pair, got ${record.type}`);
      const { privateKey, publicKey } = record.keyPair;
      expect(privateKey.extractable).toBe(false);
      expect(privateKey.algorithm).toEqual({ name: "ECDSA", namedCurve: "P-256" });
      expect(privateKey.usages).toEqual(["sign"]);
      await expect(crypto.subtle.exportKey("jwk", privateKey)).rejects.toThrow();
      expect(await crypto.subtle.exportKey("jwk", publicKey)).toMatchObject(
        await crypto.subtle.exportKey("jwk", pair.publicKey),
      );

      const data = text.encode("approve pay_1");
      const signature = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, privateKey, data);
      expect(await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, pair.publicKey, signature, data)).toBe(
        true,
      );
    });

    it("gives back AES-GCM and HMAC secret keys non-extractable, with their algorithm and usages", async () => {
      const store = await harness.create();
      const extractable = keyExtractabilityFor(store);
      const aes = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, extractable, [
        "encrypt",
        "decrypt",
      ]);
      const hmac = await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, extractable, ["sign", "verify"]);
      const iv = crypto.getRandomValues(new Uint8Array(12));
      const sealed = await crypto.subtle.encrypt({ name: "AES-GCM", iv }, aes, text.encode("K_dev"));
      const tag = await crypto.subtle.sign("HMAC", hmac, text.encode("m"));
      await store.put("wrap-key", { type: "key", key: aes });
      await store.put("mac-key", { type: "key", key: hmac });

      const storedAes = await required(store, "wrap-key");
      const storedHmac = await required(store, "mac-key");
      if (storedAes.type !== "key" || storedHmac.type !== "key") throw new Error("expected keys");
      expect(storedAes.key.extractable).toBe(false);
      expect(storedHmac.key.extractable).toBe(false);
      expect(storedHmac.key.algorithm).toMatchObject({ name: "HMAC", hash: { name: "SHA-256" } });
      expect(
        new TextDecoder().decode(await crypto.subtle.decrypt({ name: "AES-GCM", iv }, storedAes.key, sealed)),
      ).toBe("K_dev");
      expect(await crypto.subtle.verify("HMAC", storedHmac.key, tag, text.encode("m"))).toBe(true);
    });

    it("keeps records across a reopen", async () => {
      const store = await harness.create();
      const pair = await crypto.subtle.generateKey(
        { name: "ECDSA", namedCurve: "P-256" },
        keyExtractabilityFor(store),
        ["sign", "verify"],
      );
      await store.put("device-key", { type: "keyPair", keyPair: pair });
      await store.put("k-dev", { type: "bytes", bytes: Uint8Array.of(7, 7, 7) });
      const again = await harness.reopen(store);
      const record = await required(again, "device-key");
      if (record.type !== "keyPair") throw new Error("expected a key pair");
      const data = text.encode("after restart");
      const signature = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, record.keyPair.privateKey, data);
      expect(await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, pair.publicKey, signature, data)).toBe(
        true,
      );
      expect(await again.get("k-dev")).toEqual({ type: "bytes", bytes: Uint8Array.of(7, 7, 7) });
    });

    it("loses no record when puts run concurrently", async () => {
      const store = await harness.create();
      await Promise.all(Array.from({ length: 12 }, (_, i) => store.put(`card-${i}`, { type: "json", json: i })));
      for (let i = 0; i < 12; i++) expect(await store.get(`card-${i}`)).toEqual({ type: "json", json: i });
    });

    it("rejects names with separators or path characters, and values that are not records", async () => {
      const store = await harness.create();
      for (const name of ["", "../etc/passwd", "a/b", "a b", "_hidden", "x".repeat(129)]) {
        await expect(store.get(name)).rejects.toThrow(TypeError);
        await expect(store.put(name, { type: "json", json: 1 })).rejects.toThrow(TypeError);
      }
      await expect(store.put("ok", { type: "bytes", bytes: "not bytes" } as unknown as StoredRecord)).rejects.toThrow(
        TypeError,
      );
    });
  });
}
