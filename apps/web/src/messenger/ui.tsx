/** Small pieces the messenger's screens share: texts, error wording, times, avatars, the session hook. */
import { useSyncExternalStore } from "react";
import { useTranslation } from "react-i18next";
import { MessengerError } from "./api.ts";
import { currentSession, onSessionChange } from "./session.ts";
import "./texts.ts";

export function useTexts() {
  return useTranslation("messenger");
}

export function useSession() {
  return useSyncExternalStore(onSessionChange, currentSession);
}

type Translate = ReturnType<typeof useTexts>["t"];

/** A reader's sentence for an error: the stable code's own text when there is one, never the server's wording. */
export function errorText(t: Translate, error: unknown): string {
  const code = error instanceof MessengerError ? error.code : "generic";
  const key = `error.${code}`;
  return t(key, { defaultValue: t("error.generic") });
}

/** A round picture with the name's first letter (no images from others: nothing to load, nothing to track). */
export function Avatar({ name, tone = "plain" }: { name: string; tone?: "plain" | "mpay" | "group" }) {
  const letter = Array.from(name.trim())[0]?.toUpperCase() ?? "?";
  return (
    <span className={`msg-avatar msg-avatar-${tone}`} aria-hidden="true">
      {tone === "mpay" ? "M" : letter}
    </span>
  );
}

export function UnreadBadge({ count }: { count: number }) {
  const { t } = useTexts();
  if (count <= 0) return null;
  return (
    <span className="msg-badge">
      <span aria-hidden="true">{count > 99 ? "99+" : count}</span>
      <span className="msg-sr">{t("unread", { count })}</span>
    </span>
  );
}
