/**
 * Passkeys on this device: the WebAuthn ceremonies through @simplewebauthn/browser, and the public parts of the
 * passkeys added here (credential id, COSE public key, relying party id), kept in the wallet's IndexedDB store.
 * The issuer verifies passkey approvals itself, against the passkeys bound when a card was enrolled, so a card
 * enrolled before a passkey was added is paid with the PIN.
 */
import type { BoundPasskey } from "@mpay/protocol";
import type { KeyStore, Passkey } from "@mpay/wallet";
import { browserSupportsWebAuthn, startAuthentication, startRegistration } from "@simplewebauthn/browser";

/**
 * Whether this page can use passkeys at all. Browsers refuse an IP address as a relying party (WebAuthn's RP ID is
 * a domain), so a wallet opened at http://127.0.0.1:4300 can have none whatever the server says: the wallet says
 * so instead of offering a button that fails (the pay server has passkeys off there too; README "Configuration").
 */
export type PasskeySupport = "available" | "ip_address" | "unsupported";

/** `hostname` as `location.hostname` gives it: the same test as the servers' (service-kit's isIpAddressHost). */
export function passkeySupport(hostname = location.hostname): PasskeySupport {
  if (hostname.startsWith("[") || /^\d{1,3}(\.\d{1,3}){3}$/.test(hostname)) return "ip_address";
  return browserSupportsWebAuthn() ? "available" : "unsupported";
}

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

/**
 * This device's passkeys that the pay server still accepts (`active`: the payer's list, from any device). A passkey
 * revoked elsewhere is forgotten here, so it is neither bound to a new card nor offered on the pay sheet.
 */
export async function livePasskeysOnThisDevice(store: KeyStore, active: readonly Passkey[]): Promise<StoredPasskey[]> {
  const live = new Set(active.filter((p) => p.status === "active").map((p) => p.id));
  const mine = await passkeysOnThisDevice(store);
  const kept = mine.filter((p) => live.has(p.id));
  if (kept.length !== mine.length) await keep(store, kept);
  return kept;
}

/** This device's live passkeys; the pay server is asked (`list`) only when this device has any. */
export async function livePasskeys(store: KeyStore, list: () => Promise<Passkey[]>): Promise<StoredPasskey[]> {
  if ((await passkeysOnThisDevice(store)).length === 0) return [];
  return livePasskeysOnThisDevice(store, await list());
}

/** What a new enrollment binds at the issuer: the passkeys of this device (the live ones, livePasskeysOnThisDevice). */
export function boundAtEnrollment(passkeys: readonly StoredPasskey[]): BoundPasskey[] {
  return passkeys.map(({ id, publicKey }) => ({ id, publicKey }));
}

/** After an enrollment: the card is bound at its issuer to the passkeys the enrollment named, and to no other. */
export async function cardBoundToPasskeys(
  store: KeyStore,
  cardId: string,
  bound: readonly BoundPasskey[],
): Promise<void> {
  const ids = new Set(bound.map((p) => p.id));
  if (ids.size === 0) return;
  await keep(
    store,
    (await passkeysOnThisDevice(store)).map((p) =>
      ids.has(p.id) ? { ...p, cardIds: [...new Set([...p.cardIds, cardId])] } : p,
    ),
  );
}

/** A passkey revoked from this device: forgotten here too. */
export async function forgetPasskey(store: KeyStore, passkeyId: string): Promise<void> {
  await keep(
    store,
    (await passkeysOnThisDevice(store)).filter((p) => p.id !== passkeyId),
  );
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
