/** The dashboard's small shared pieces: links through the app's router, notices, loads, a confirmation dialog. */
import {
  createContext,
  useCallback,
  useContext,
  useEffect,
  useRef,
  useState,
  type MouseEvent,
  type ReactNode,
} from "react";
import { useTranslation } from "react-i18next";
import type { TFunction } from "i18next";
import { formatAmount, type Language } from "../shell/i18n.ts";
import { navigate } from "../shell/router.ts";
import { DashboardApiError, type DashboardSession, type MerchantApi } from "./api.ts";
import type { Mode } from "./model.ts";

export interface Dashboard {
  session: DashboardSession;
  mode: Mode;
  api: MerchantApi;
  setMode(mode: Mode): void;
  signOut(): void;
}

export const DashboardContext = createContext<Dashboard | null>(null);

export function useDashboard(): Dashboard {
  const dashboard = useContext(DashboardContext);
  if (!dashboard) throw new Error("useDashboard() outside the signed-in dashboard");
  return dashboard;
}

/** An anchor (a real link for keyboards, screen readers and new tabs) that navigates in place. */
export function DashLink({
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

/** What went wrong, in the reader's words: known codes have their own text, anything else the server's message. */
export function errorText(error: unknown, t: TFunction): string {
  if (error instanceof DashboardApiError) {
    const key = `errors.${error.code}`;
    const known = t(key);
    if (known !== key) return known;
    return t("errors.other", { message: error.message });
  }
  return t("errors.unexpected");
}

/** A live region: polite for news, assertive for errors. Always present, so its first message is announced. */
export function Notice({
  message,
  tone = "info",
}: {
  message: string | undefined;
  tone?: "info" | "error" | "success";
}) {
  return (
    <p
      className={`dash-notice dash-notice-${tone}${message ? "" : " dash-notice-empty"}`}
      role={tone === "error" ? "alert" : "status"}
    >
      {message ?? ""}
    </p>
  );
}

export function Money({ amount, currency }: { amount: number; currency: string }) {
  const { i18n } = useTranslation();
  return <span className="dash-money">{formatAmount(amount, currency, i18n.language as Language)}</span>;
}

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload(): void;
}

/**
 * Loads once per `key` and again on `reload()`. A session the server no longer accepts (401) signs this tab out, so
 * the dashboard asks for a new sign-in instead of showing an error on every screen.
 */
export function useLoad<T>(load: () => Promise<T>, key: string): Loaded<T> {
  const { signOut } = useDashboard();
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({
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
        if (error instanceof DashboardApiError && error.status === 401) signOut();
        setState({ data: undefined, error, loading: false });
      },
    );
    return () => {
      live = false;
    };
  }, [run, round, signOut]);
  return { ...state, reload: () => setRound((n) => n + 1) };
}

export function Loading() {
  const { t } = useTranslation("dashboard");
  return (
    <p className="dash-loading" role="status">
      {t("loading")}
    </p>
  );
}

/**
 * A modal confirmation on the native <dialog> (focus moves in and back, Escape closes, the page behind is inert).
 * `children` holds the dialog's fields; `onConfirm` runs the action and the dialog stays open with its error if it
 * fails.
 */
export function ConfirmDialog({
  open,
  title,
  confirmLabel,
  danger = false,
  busy = false,
  error,
  onConfirm,
  onClose,
  children,
}: {
  open: boolean;
  title: string;
  confirmLabel: string;
  danger?: boolean;
  busy?: boolean;
  error?: string | undefined;
  onConfirm(): void;
  onClose(): void;
  children?: ReactNode;
}) {
  const { t } = useTranslation("dashboard");
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  const titleId = `dialog-${title.replace(/\W+/g, "-").toLowerCase()}`;
  return (
    <dialog ref={ref} className="dash-dialog" aria-labelledby={titleId} onClose={onClose}>
      <form
        method="dialog"
        className="dash-dialog-form"
        onSubmit={(event) => {
          event.preventDefault();
          onConfirm();
        }}
      >
        <h2 id={titleId} className="dash-dialog-title">
          {title}
        </h2>
        {children}
        <Notice message={error} tone="error" />
        <div className="dash-dialog-actions">
          <button type="button" className="dash-button dash-button-secondary" onClick={onClose} disabled={busy}>
            {t("dialog.back")}
          </button>
          <button
            type="submit"
            className={`dash-button ${danger ? "dash-button-danger" : "dash-button-primary"}`}
            disabled={busy}
          >
            {busy ? t("dialog.working") : confirmLabel}
          </button>
        </div>
      </form>
    </dialog>
  );
}

/** Copies text to the clipboard, saying it did (or that the reader must copy it by hand). */
export function CopyButton({ text, label }: { text: string; label: string }) {
  const { t } = useTranslation("dashboard");
  const [done, setDone] = useState<"copied" | "failed" | null>(null);
  return (
    <span className="dash-copy">
      <button
        type="button"
        className="dash-button dash-button-secondary dash-button-small"
        onClick={() =>
          void navigator.clipboard.writeText(text).then(
            () => setDone("copied"),
            () => setDone("failed"),
          )
        }
      >
        {label}
      </button>
      <span role="status" className="dash-copy-status">
        {done === "copied" ? t("copied") : done === "failed" ? t("copyFailed") : ""}
      </span>
    </span>
  );
}

/** A secret shown once: monospace, selectable, with a copy button and the warning that it will not be shown again. */
export function OneTimeSecret({ label, value }: { label: string; value: string }) {
  const { t } = useTranslation("dashboard");
  return (
    <div className="dash-secret">
      <p className="dash-secret-label">{label}</p>
      <code className="dash-secret-value">{value}</code>
      <CopyButton text={value} label={t("copy")} />
      <p className="dash-hint">{t("shownOnce")}</p>
    </div>
  );
}
