/**
 * The payer's MPay session in this tab (DESIGN.md "Authentication without plugins"; web contract, pay server 2):
 * sign-in is OpenID Connect at the messenger, run by the pay server, and it ends on `/wallet/signin?code=…`. The
 * wallet proves it started that sign-in with PKCE: the verifier stays in this tab's sessionStorage, only its S256
 * challenge travels. The `pst_` session token is kept in sessionStorage too (gone when the tab closes), never in a
 * URL, a log or the page.
 */
const SIGN_IN_KEY = "mpay.wallet.sign-in";
const SESSION_KEY = "mpay.wallet.session";

export interface PendingSignIn {
  codeVerifier: string;
  /** Where the payer was going (a `/wallet…` path), to continue there after sign-in. */
  returnTo: string;
}

export interface StoredSession {
  sessionToken: string;
  expiresAt: string;
}

/** Only wallet paths: a crafted link must not turn the sign-in into a redirect to somewhere else. */
export function safeReturnPath(path: string | null | undefined): string {
  if (typeof path !== "string") return "/wallet";
  if (!/^\/wallet(\/[A-Za-z0-9_\-/]*)?$/.test(path) || path.startsWith("/wallet/signin")) return "/wallet";
  return path;
}

export function rememberSignIn(pending: PendingSignIn): void {
  sessionStorage.setItem(SIGN_IN_KEY, JSON.stringify({ ...pending, returnTo: safeReturnPath(pending.returnTo) }));
}

/** The pending sign-in, taken once: a verifier is good for one exchange. */
export function takeSignIn(): PendingSignIn | undefined {
  const raw = sessionStorage.getItem(SIGN_IN_KEY);
  sessionStorage.removeItem(SIGN_IN_KEY);
  if (raw === null) return undefined;
  try {
    const value = JSON.parse(raw) as Partial<PendingSignIn>;
    if (typeof value.codeVerifier !== "string") return undefined;
    return { codeVerifier: value.codeVerifier, returnTo: safeReturnPath(value.returnTo) };
  } catch {
    return undefined;
  }
}

export function saveSession(session: StoredSession): void {
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
}

/** The session of this tab, unless it expired. */
export function loadSession(now: Date = new Date()): StoredSession | undefined {
  const raw = sessionStorage.getItem(SESSION_KEY);
  if (raw === null) return undefined;
  try {
    const value = JSON.parse(raw) as Partial<StoredSession>;
    if (typeof value.sessionToken !== "string" || typeof value.expiresAt !== "string") return undefined;
    if (Date.parse(value.expiresAt) <= now.getTime()) {
      forgetSession();
      return undefined;
    }
    return { sessionToken: value.sessionToken, expiresAt: value.expiresAt };
  } catch {
    return undefined;
  }
}

export function forgetSession(): void {
  sessionStorage.removeItem(SESSION_KEY);
}
