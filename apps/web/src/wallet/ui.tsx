/** The wallet's small shared pieces: the screen frame, links that use the app's router, the tab bar, async loads. */
import { useCallback, useEffect, useState, type MouseEvent, type ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { formatDateTime } from "../shell/format.ts";
import { formatAmount } from "../shell/i18n.ts";
import { navigate } from "../shell/router.ts";
import { errorCode, errorMessage } from "./errors.ts";
import { signedOut } from "./runtime.ts";

/** An anchor (so it is a real link for keyboards, screen readers and new tabs) that navigates in place. */
export function Link({
  to,
  className,
  children,
  ...rest
}: {
  to: string;
  className?: string;
  children: ReactNode;
  "aria-current"?: "page";
}) {
  const onClick = (event: MouseEvent<HTMLAnchorElement>) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  };
  return (
    <a href={to} className={className} onClick={onClick} {...rest}>
      {children}
    </a>
  );
}

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

export function Money({ amount, currency, className }: { amount: number; currency: string; className?: string }) {
  return <span className={className}>{formatAmount(amount, currency)}</span>;
}

/** A polite live region: what just happened, or what went wrong (then assertive). */
export function Notice({
  message,
  tone = "info",
}: {
  message: string | undefined;
  tone?: "info" | "error" | "success";
}) {
  return (
    <p
      className={`notice notice-${tone}${message ? "" : " notice-empty"}`}
      role={tone === "error" ? "alert" : "status"}
    >
      {message ?? ""}
    </p>
  );
}

export interface Loaded<T> {
  data: T | undefined;
  error: string | undefined;
  loading: boolean;
  reload(): void;
}

/**
 * Loads once per `key`, and again on `reload()`. A session the server no longer accepts signs this tab out, so the
 * wallet asks for a new sign-in instead of showing an error on every screen.
 */
export function useLoad<T>(load: () => Promise<T>, key: string): Loaded<T> {
  const { t } = useTranslation("wallet");
  const [state, setState] = useState<{ data: T | undefined; error: string | undefined; loading: boolean }>({
    data: undefined,
    error: undefined,
    loading: true,
  });
  const [round, setRound] = useState(0);
  // The loader is a new function each render; `key` says when it loads something else.
  const run = useCallback(load, [key]);
  useEffect(() => {
    let live = true;
    setState((previous) => ({ ...previous, loading: true }));
    run().then(
      (data) => live && setState({ data, error: undefined, loading: false }),
      (error: unknown) => {
        if (!live) return;
        if (errorCode(error) === "payer_session_invalid") signedOut();
        setState({ data: undefined, error: errorMessage(error, t), loading: false });
      },
    );
    return () => {
      live = false;
    };
  }, [run, round, t]);
  return { ...state, reload: () => setRound((n) => n + 1) };
}

export function Loading() {
  const { t } = useTranslation("wallet");
  return (
    <p className="loading" role="status">
      {t("loading")}
    </p>
  );
}

/** A moment as the shell writes one everywhere (`12월 4일 오후 3:05` / `Dec 4, 3:05 PM`). */
export function formatDate(iso: string, language: string): string {
  return formatDateTime(iso, language);
}

/** A phone number or code that must not break across lines (`+82 10-****-0001`). */
export function unbroken(text: string): string {
  return text.replaceAll(" ", "\u00a0").replaceAll("-", "\u2011");
}
