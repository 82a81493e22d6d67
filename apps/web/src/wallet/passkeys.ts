/**
 * Passkeys on this device: the WebAuthn ceremonies through @simplewebauthn/browser, and the public parts of the
 * passkeys added here (credential id, COSE public key, relying party id), kept in the wallet's IndexedDB store.
 * The issuer verifies passkey approvals itself, against the passkeys bound when a card was enrolled, so a card
 * enrolled before a passkey was added is paid with the PIN.
 */
import type { BoundPasskey } from "@mpay/protocol";
import type { KeyStore, Passkey } from "@mpay/wallet";
import { startAuthentication, startRegistration } from "@simplewebauthn/browser";

const RECORD = "web-passkeys";

export interface StoredPasskey extends BoundPasskey {
  rpId: string;
  /** The cards enrolled after this passkey was added, so bound to it at their issuer. */
  cardIds: string[];
}

export async function passkeysOnThisDevice(store: KeyStore): Promise<StoredPasskey[]> {
  const record = await store.get(RECORD);
  if (record?.type !== "json" || !Array.isArray(record.json)) return [];
  return record.json.flatMap((entry) => {
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) return [];
    const { id, publicKey, rpId, cardIds } = entry;
    if (typeof id !== "string" || typeof publicKey !== "string" || typeof rpId !== "string") return [];
    return [
      {
        id,
        publicKey,
        rpId,
        cardIds: Array.isArray(cardIds) ? cardIds.filter((c): c is string => typeof c === "string") : [],
      },
    ];
  });
}

async function keep(store: KeyStore, passkeys: StoredPasskey[]): Promise<void> {
  await store.put(RECORD, {
    type: "json",
    json: passkeys.map((p) => ({ id: p.id, publicKey: p.publicKey, rpId: p.rpId, cardIds: p.cardIds })),
  });
}

/** What a new enrollment binds at the issuer: every passkey of this device. */
export async function storedPasskeys(store: KeyStore): Promise<BoundPasskey[]> {
  return (await passkeysOnThisDevice(store)).map(({ id, publicKey }) => ({ id, publicKey }));
}

/** After an enrollment: the card is bound to this device's passkeys at its issuer. */
export async function cardBoundToPasskeys(store: KeyStore, cardId: string): Promise<void> {
  const passkeys = await passkeysOnThisDevice(store);
  if (passkeys.length === 0) return;
  await keep(
    store,
    passkeys.map((p) => ({ ...p, cardIds: [...new Set([...p.cardIds, cardId])] })),
  );
}

/** The passkeys that can approve a payment with `cardId`. */
export async function passkeysForCard(store: KeyStore, cardId: string): Promise<StoredPasskey[]> {
  return (await passkeysOnThisDevice(store)).filter((p) => p.cardIds.includes(cardId));
}

/** Runs the registration ceremony for the pay server's options; remembers the rp id it was made for. */
export function createPasskey(store: KeyStore) {
  let rpId = location.hostname;
  return {
    create: async (options: Record<string, unknown>): Promise<Record<string, unknown>> => {
      const rp = options["rp"] as { id?: unknown } | undefined;
      if (typeof rp?.id === "string") rpId = rp.id;
      return (await startRegistration({
        optionsJSON: options as unknown as Parameters<typeof startRegistration>[0]["optionsJSON"],
      })) as unknown as Record<string, unknown>;
    },
    remember: async (passkey: Passkey): Promise<void> => {
      const passkeys = (await passkeysOnThisDevice(store)).filter((p) => p.id !== passkey.id);
      await keep(store, [...passkeys, { id: passkey.id, publicKey: passkey.publicKey, rpId, cardIds: [] }]);
    },
  };
}

/** The assertion over a payment's challenge (the terms' hash), with user verification, by one of `passkeys`. */
export async function assertPasskey(challenge: string, passkeys: StoredPasskey[]): Promise<Record<string, unknown>> {
  const rpId = passkeys[0]?.rpId ?? location.hostname;
  return (await startAuthentication({
    optionsJSON: {
      challenge,
      rpId,
      allowCredentials: passkeys.map((p) => ({ id: p.id, type: "public-key" as const })),
      userVerification: "required",
      timeout: 60_000,
    },
  })) as unknown as Record<string, unknown>;
}
