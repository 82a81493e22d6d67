import { readFile } from "node:fs/promises";
import { dirname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import * as wallet from "./index.ts";
import * as walletNode from "./node.ts";

const here = dirname(fileURLToPath(import.meta.url));

/** The relative `.ts` files that `entry` loads, transitively, by their path in src/ (test files and suites excluded by construction). */
async function importGraph(entry: string, seen = new Map<string, string[]>()): Promise<Map<string, string[]>> {
  if (seen.has(entry)) return seen;
  const source = await readFile(join(here, entry), "utf8");
  const specifiers = [...source.matchAll(/^(?:import|export)\s[^;]*?from\s+"([^"]+)"/gms)].map((m) => m[1] ?? "");
  seen.set(entry, specifiers);
  for (const specifier of specifiers)
    if (/^\.\.?\//.test(specifier)) await importGraph(normalize(join(dirname(entry), specifier)), seen);
  return seen;
}

describe("the public API", () => {
  it("carries no network roots: the test roots only from @mpay/testing/network-roots, and a Wallet refuses to start without roots", async () => {
    expect(Object.keys(wallet)).not.toContain("TEST_NETWORK_ROOTS");
    const options = {
      keyStore: new walletNode.FileKeyStore("/nonexistent/keys.json", walletNode.FileKeyStore.newDeviceSecret()),
      client: new wallet.PayClient({ baseUrl: "http://127.0.0.1:1" }),
    };
    expect(() => new wallet.Wallet(options as unknown as wallet.WalletOptions)).toThrow(/trustedRoots/);
    expect(() => new wallet.Wallet({ ...options, trustedRoots: [] })).toThrow(/trustedRoots/);
  });

  it("loads nothing from node: in the browser entry", async () => {
    const graph = await importGraph("index.ts");
    expect([...graph.keys()].sort()).toEqual([
      "bytes.ts",
      "card-crypto.ts",
      "card-keys.ts",
      "client/cards.ts",
      "client/devices.ts",
      "client/mandates.ts",
      "client/passkeys.ts",
      "client/payments.ts",
      "client/pending-changes.ts",
      "client/pin.ts",
      "client/recovery.ts",
      "client/request.ts",
      "client/sessions.ts",
      "device-key.ts",
      "errors.ts",
      "index.ts",
      "indexed-db-key-store.ts",
      "key-store.ts",
      "pay-client.ts",
      "pin.ts",
      "secrets.ts",
      "trusted-roots.ts",
      "wallet.ts",
      "wallet/cards.ts",
      "wallet/core.ts",
      "wallet/devices.ts",
      "wallet/passkeys.ts",
      "wallet/payments.ts",
      "wallet/pin.ts",
      "wallet/recovery.ts",
    ]);
    for (const [file, specifiers] of graph)
      expect({ file, node: specifiers.filter((s) => s.startsWith("node:")) }).toEqual({ file, node: [] });
  });

  it("uses WebCrypto only: node:crypto appears in no library file, even the Node entry", async () => {
    const graph = await importGraph("node.ts");
    expect(graph.has("file-key-store.ts")).toBe(true);
    for (const [file, specifiers] of graph)
      expect({ file, crypto: specifiers.filter((s) => /^(node:)?crypto$/.test(s)) }).toEqual({ file, crypto: [] });
  });

  it("exports the key stores, device key, PIN and secret helpers", () => {
    for (const name of [
      "IndexedDbKeyStore",
      "createDeviceKey",
      "loadDeviceKey",
      "signTerms",
      "signStatement",
      "startPinLogin",
      "finishPinLogin",
      "pinChallengeMac",
      "wipe",
      "WalletError",
      "PayApiError",
      "PayClient",
      "Wallet",
    ]) {
      expect(typeof (wallet as Record<string, unknown>)[name]).toBe("function");
    }
    expect("FileKeyStore" in wallet).toBe(false);
    expect(typeof walletNode.FileKeyStore).toBe("function");
  });
});
