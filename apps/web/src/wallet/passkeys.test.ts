import type { KeyStore, Passkey, StoredRecord } from "@mpay/wallet";
import { describe, expect, it } from "vitest";
import {
  boundAtEnrollment,
  cardBoundToPasskeys,
  forgetPasskey,
  livePasskeys,
  passkeySupport,
  passkeysOnThisDevice,
} from "./passkeys.ts";

/** The records as IndexedDB would keep them, in a Map. */
function memoryStore(): KeyStore {
  const records = new Map<string, StoredRecord>();
  return {
    keepsKeysNonExtractable: true,
    get: async (name) => records.get(name),
    put: async (name, record) => void records.set(name, record),
    delete: async (name) => void records.delete(name),
  };
}

function serverPasskey(id: string, status: Passkey["status"]): Passkey {
  return {
    id,
    object: "passkey",
    publicKey: `pk-${id}`,
    status,
    deviceType: "singleDevice",
    backedUp: false,
    transports: [],
    createdAt: "2026-12-03T00:00:00.000Z",
    revokedAt: status === "revoked" ? "2026-12-03T01:00:00.000Z" : null,
  };
}

async function storeWith(...ids: string[]): Promise<KeyStore> {
  const store = memoryStore();
  await store.put("web-passkeys", {
    type: "json",
    json: ids.map((id) => ({ id, publicKey: `pk-${id}`, rpId: "localhost", cardIds: [] })),
  });
  return store;
}

describe("the wallet's passkeys on this device", () => {
  it("are impossible at an IP address, whatever the browser can do", () => {
    expect(passkeySupport("127.0.0.1")).toBe("ip_address");
    expect(passkeySupport("[::1]")).toBe("ip_address");
    // Node has no WebAuthn: a host name is then "unsupported", never "available".
    expect(passkeySupport("localhost")).toBe("unsupported");
  });

  it("bind a card only to the passkeys its enrollment named, so the pay sheet offers exactly those", async () => {
    const store = await storeWith("a", "b");
    const bound = boundAtEnrollment((await passkeysOnThisDevice(store)).filter((p) => p.id === "a"));
    expect(bound).toEqual([{ id: "a", publicKey: "pk-a" }]);
    await cardBoundToPasskeys(store, "card_1", bound);
    expect((await passkeysOnThisDevice(store)).map((p) => [p.id, p.cardIds])).toEqual([
      ["a", ["card_1"]],
      ["b", []],
    ]);
  });

  it("forget a passkey revoked anywhere, and do not ask the server when there is none", async () => {
    const store = await storeWith("a", "b", "c");
    const live = await livePasskeys(store, async () => [
      serverPasskey("a", "active"),
      serverPasskey("b", "revoked"),
      serverPasskey("other-device", "active"),
    ]);
    expect(live.map((p) => p.id)).toEqual(["a"]);
    expect((await passkeysOnThisDevice(store)).map((p) => p.id)).toEqual(["a"]);
    await forgetPasskey(store, "a");
    const asked: string[] = [];
    expect(await livePasskeys(store, async () => (asked.push("list"), []))).toEqual([]);
    expect(asked).toEqual([]);
  });
});
