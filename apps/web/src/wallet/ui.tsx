/**
 * The wallet's small pieces: the screen frame with its tab bar, and the shell's shared pieces (shell/ui.tsx: links,
 * notices, loads) in the wallet's words.
 */
import { useEffect, type ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { formatDateTime } from "../shell/format.ts";
import { Link, Loading as ShellLoading, useLoad as useShellLoad } from "../shell/ui.tsx";
import { errorCode, errorMessage } from "./errors.ts";
import { signedOut } from "./runtime.ts";

export { Link, Money, Notice } from "../shell/ui.tsx";

const TABS = [
  { to: "/wallet", key: "nav.home" },
  { to: "/wallet/cards", key: "nav.cards" },
  { to: "/wallet/history", key: "nav.history" },
  { to: "/wallet/settings", key: "nav.settings" },
] as const;

export function Screen({
  title,
  back,
  path,
  children,
}: {
  title: string;
  back?: string;
  /** The current path, to mark the tab; screens without the tab bar (the pay sheet) leave it out. */
  path?: string;
  children: ReactNode;
}) {
  const { t } = useTranslation("wallet");
  useEffect(() => {
    document.title = `${title} · MPay`;
  }, [title]);
  return (
    <div className="wallet">
      <header className="wallet-header">
        {back !== undefined ? (
          <Link to={back} className="wallet-back">
            <span aria-hidden="true">‹ </span>
            {t("back")}
          </Link>
        ) : (
          <span className="wallet-brand">MPay</span>
        )}
        <h1 className="wallet-title">{title}</h1>
      </header>
      <main className="wallet-main">{children}</main>
      {path !== undefined && (
        <nav className="wallet-tabs" aria-label={t("nav.label")}>
          {TABS.map((tab) => (
            <Link
              key={tab.to}
              to={tab.to}
              className="wallet-tab"
              {...(tab.to === path ? { "aria-current": "page" as const } : {})}
            >
              {t(tab.key)}
            </Link>
          ))}
        </nav>
      )}
    </div>
  );
}

export interface Loaded<T> {
  data: T | undefined;
  /** What went wrong, in the payer's words. */
  error: string | undefined;
  loading: boolean;
  reload(): void;
}

/**
 * The shell's load, its error in the payer's words. A session the server no longer accepts signs this tab out, so
 * the wallet asks for a new sign-in instead of showing an error on every screen.
 */
export function useLoad<T>(load: () => Promise<T>, key: string): Loaded<T> {
  const { t } = useTranslation("wallet");
  const state = useShellLoad(load, key, (error) => {
    if (errorCode(error) === "payer_session_invalid") signedOut();
  });
  return { ...state, error: state.error === undefined ? undefined : errorMessage(state.error, t) };
}

export function Loading() {
  const { t } = useTranslation("wallet");
  return <ShellLoading label={t("loading")} />;
}

/** A moment as the shell writes one everywhere (`12월 4일 오후 3:05` / `Dec 4, 3:05 PM`). */
export function formatDate(iso: string, language: string): string {
  return formatDateTime(iso, language);
}

/** A phone number or code that must not break across lines (`+82 10-****-0001`). */
export function unbroken(text: string): string {
  return text.replaceAll(" ", "\u00a0").replaceAll("-", "\u2011");
}
