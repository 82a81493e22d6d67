/**
 * The connection to a PKCS#11 token (an HSM; SoftHSM2 in tests and development): load the library, find the slot
 * by token label or slot id, open a session and log in as the user.
 *
 * A library is initialised once per process (a second C_Initialize fails), so modules are shared and counted:
 * every provider instance opens its own session, and the module is finalised when the last one closes. Login
 * state belongs to the application, not the session, so a second login answers CKR_USER_ALREADY_LOGGED_IN,
 * which is fine. The PIN is never put in an error or a log line.
 */
import * as graphene from "graphene-pk11";
import type { Secret } from "@mpay/protocol";
import { KeyProviderError } from "../provider.ts";

/** Debian's softhsm2 package puts the library here (`apt-get install softhsm2`). */
export const DEFAULT_PKCS11_LIBRARY = "/usr/lib/softhsm/libsofthsm2.so";
export const DEFAULT_PKCS11_TOKEN_LABEL = "mpay";

export interface Pkcs11Settings {
  /** MPAY_PKCS11_LIBRARY: path of the vendor's PKCS#11 library. */
  library: string;
  /** MPAY_PKCS11_SLOT: a slot id (decimal, as `softhsm2-util --show-slots` prints it); wins over the label. */
  slot: number | undefined;
  /** MPAY_PKCS11_TOKEN_LABEL: the token's label, used when no slot id is given. */
  tokenLabel: string;
  /** MPAY_PKCS11_PIN: the user PIN of the token. */
  pin: Secret<string> | undefined;
}

export interface TokenSession {
  session: graphene.Session;
  /** What to call the token in messages: its label, never the PIN. */
  tokenLabel: string;
  close(): void;
}

const modules = new Map<string, { module: graphene.Module; sessions: number }>();

export function openTokenSession(settings: Pkcs11Settings): TokenSession {
  if (!settings.pin)
    throw misconfigured("MPAY_PKCS11_PIN is not set: the pkcs11 key provider needs the token's user PIN");
  const entry = loadModule(settings.library);
  try {
    const slot = findSlot(entry.module, settings);
    const tokenLabel = slot.getToken().label.trim();
    const session = slot.open(graphene.SessionFlag.SERIAL_SESSION | graphene.SessionFlag.RW_SESSION);
    try {
      session.login(settings.pin.peek(), graphene.UserType.USER);
    } catch (error) {
      if (ckr(error) !== "CKR_USER_ALREADY_LOGGED_IN") {
        session.close();
        throw misconfigured(
          `login to PKCS#11 token "${tokenLabel}" failed (${ckr(error) ?? "unknown error"}): check MPAY_PKCS11_PIN`,
        );
      }
    }
    entry.sessions++;
    let closed = false;
    return {
      session,
      tokenLabel,
      close() {
        if (closed) return;
        closed = true;
        try {
          session.close(); // the last session to close ends the login too (PKCS#11 2.40, 11.6)
        } finally {
          release(settings.library, entry);
        }
      },
    };
  } catch (error) {
    if (entry.sessions === 0) unload(settings.library, entry); // loaded for this call only
    throw error;
  }
}

/** The PKCS#11 return value name (`CKR_…`) of an error thrown by pkcs11js, or null. */
export function ckr(error: unknown): string | null {
  const message = error instanceof Error ? error.message : "";
  return /^(CKR_[A-Z_0-9]+)/.exec(message)?.[1] ?? null;
}

function loadModule(library: string): { module: graphene.Module; sessions: number } {
  const known = modules.get(library);
  if (known) return known;
  let module: graphene.Module;
  try {
    module = graphene.Module.load(library);
    module.initialize();
  } catch (error) {
    throw misconfigured(
      `cannot load the PKCS#11 library ${library} (${ckr(error) ?? (error instanceof Error ? error.message : "unknown error")}): check MPAY_PKCS11_LIBRARY`,
    );
  }
  const entry = { module, sessions: 0 };
  modules.set(library, entry);
  return entry;
}

function release(library: string, entry: { module: graphene.Module; sessions: number }): void {
  entry.sessions--;
  if (entry.sessions <= 0) unload(library, entry);
}

function unload(library: string, entry: { module: graphene.Module; sessions: number }): void {
  modules.delete(library);
  try {
    entry.module.finalize();
  } finally {
    entry.module.close();
  }
}

function findSlot(module: graphene.Module, settings: Pkcs11Settings): graphene.Slot {
  const slots = module.getSlots(true);
  const seen: string[] = [];
  for (let i = 0; i < slots.length; i++) {
    const slot = slots.items(i);
    const label = slot.getToken().label.trim();
    const id = slotId(slot.handle);
    seen.push(`${id} "${label}"`);
    if (settings.slot !== undefined ? id === BigInt(settings.slot) : label === settings.tokenLabel) return slot;
  }
  const wanted = settings.slot !== undefined ? `slot ${settings.slot}` : `a token labelled "${settings.tokenLabel}"`;
  throw misconfigured(
    `the PKCS#11 library has no ${wanted} (slots with a token: ${seen.join(", ") || "none"}): check MPAY_PKCS11_SLOT or MPAY_PKCS11_TOKEN_LABEL`,
  );
}

/** A CK_SLOT_ID as the number tools print: pkcs11js hands it over as the native unsigned long, little-endian. */
function slotId(handle: Buffer): bigint {
  return BigInt(`0x${Buffer.from(handle).reverse().toString("hex") || "0"}`);
}

function misconfigured(message: string): KeyProviderError {
  return new KeyProviderError("provider_misconfigured", message);
}
