/**
 * The dashboard user's session in this tab: the `mds_` token and who it is, in sessionStorage only (gone when the
 * tab closes, as the messenger app keeps its `mss_`), never in a URL, a log or the page. The mode the header switch
 * chose stays with it, so a reload shows the same data.
 */
import type { DashboardSession } from "./api.ts";
import { ROLES, type Mode } from "./model.ts";

const SESSION_KEY = "mpay.dashboard.session";
const MODE_KEY = "mpay.dashboard.mode";

export function saveSession(session: DashboardSession): void {
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
}

/** The session of this tab, unless it expired or is not one. */
export function loadSession(now: Date = new Date()): DashboardSession | undefined {
  const raw = sessionStorage.getItem(SESSION_KEY);
  if (raw === null) return undefined;
  try {
    const value = JSON.parse(raw) as Partial<DashboardSession>;
    const user = value.user;
    if (
      typeof value.token !== "string" ||
      typeof value.expiresAt !== "string" ||
      typeof user !== "object" ||
      user === null ||
      !(ROLES as readonly string[]).includes(user.role)
    )
      return undefined;
    if (Date.parse(value.expiresAt) <= now.getTime()) {
      forgetSession();
      return undefined;
    }
    return { token: value.token, expiresAt: value.expiresAt, user };
  } catch {
    return undefined;
  }
}

export function forgetSession(): void {
  sessionStorage.removeItem(SESSION_KEY);
}

export function loadMode(): Mode {
  return sessionStorage.getItem(MODE_KEY) === "live" ? "live" : "test";
}

export function saveMode(mode: Mode): void {
  sessionStorage.setItem(MODE_KEY, mode);
}
