/** The staff session in this tab: sessionStorage only (gone when the tab closes), never in a URL or the page. */
import type { StaffSession } from "./api.ts";

const KEY = "mpay.console.session";

export function saveStaffSession(session: StaffSession): void {
  sessionStorage.setItem(KEY, JSON.stringify(session));
}

export function loadStaffSession(now: Date = new Date()): StaffSession | undefined {
  try {
    const value = JSON.parse(sessionStorage.getItem(KEY) ?? "null") as Partial<StaffSession> | null;
    if (!value || typeof value.token !== "string" || typeof value.expiresAt !== "string" || !value.staff)
      return undefined;
    if (!["admin", "support"].includes(value.staff.role)) return undefined;
    if (Date.parse(value.expiresAt) <= now.getTime()) return undefined;
    return value as StaffSession;
  } catch {
    return undefined;
  }
}

export function forgetStaffSession(): void {
  sessionStorage.removeItem(KEY);
}
