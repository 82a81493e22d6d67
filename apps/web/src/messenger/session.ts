/**
 * The signed-in messenger session, kept in sessionStorage: it ends with the tab, is never rendered and never goes
 * into a URL. Also remembers where to continue after signing in (`/open/pay/:id` while signed out).
 */
import type { AccountView, Session } from "./api.ts";

const SESSION_KEY = "mpay.messenger.session";
const CONTINUE_KEY = "mpay.messenger.continue";

interface StoredSession {
  sessionToken: string;
  expiresAt: string;
  account: AccountView;
}

const listeners = new Set<() => void>();
let cached: StoredSession | null | undefined;

function read(): StoredSession | null {
  if (cached !== undefined) return cached;
  try {
    const raw = sessionStorage.getItem(SESSION_KEY);
    const parsed = raw ? (JSON.parse(raw) as StoredSession) : null;
    cached = parsed && Date.parse(parsed.expiresAt) > Date.now() ? parsed : null;
  } catch {
    cached = null;
  }
  return cached;
}

export function currentSession(): StoredSession | null {
  return read();
}

export function sessionToken(): string | undefined {
  return read()?.sessionToken;
}

export function saveSession(session: Session): void {
  cached = { sessionToken: session.sessionToken, expiresAt: session.expiresAt, account: session.account };
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(cached));
  for (const listener of listeners) listener();
}

export function clearSession(): void {
  cached = null;
  sessionStorage.removeItem(SESSION_KEY);
  for (const listener of listeners) listener();
}

export function onSessionChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Only paths of this app, so a crafted value cannot send the reader to another site after sign-in. */
const CONTINUE_PATH = /^\/(wallet|open|chats|friends)(\/[A-Za-z0-9_-]+)*$/;

export function rememberContinue(path: string): void {
  if (CONTINUE_PATH.test(path)) sessionStorage.setItem(CONTINUE_KEY, path);
}

/** The remembered path without forgetting it (the sign-in page says why it is asked). */
export function peekContinue(): string | null {
  const path = sessionStorage.getItem(CONTINUE_KEY);
  return path && CONTINUE_PATH.test(path) ? path : null;
}

/** The remembered path (once: it is forgotten as it is read). */
export function takeContinue(): string | null {
  const path = sessionStorage.getItem(CONTINUE_KEY);
  sessionStorage.removeItem(CONTINUE_KEY);
  return path && CONTINUE_PATH.test(path) ? path : null;
}
