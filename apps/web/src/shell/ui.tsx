/**
 * The small pieces every app of the web app shares (wallet, dashboard, operator console): links through the app's
 * router, live notices, loads, the loading line, a confirmation dialog. Each app keeps its own look by naming its
 * classes (`className`: the block's class, whose `-info`, `-error`, `-empty`… variants the app's CSS styles) and its
 * own words (labels come in as props; the shell has no texts of its own).
 */
import { useCallback, useEffect, useRef, useState, type MouseEvent, type ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { formatAmount, type Language } from "./format.ts";
import { navigate } from "./router.ts";

/** An anchor (a real link for keyboards, screen readers and new tabs) that navigates in place. */
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

export type NoticeTone = "info" | "error" | "success";

/**
 * A live region: polite for news, assertive for errors. Always present, so its first message is announced.
 * `className` is the app's notice class (`notice`, `dash-notice`); the tone and emptiness add `-<tone>` and `-empty`.
 */
export function Notice({
  message,
  tone = "info",
  className = "notice",
}: {
  message: string | undefined;
  tone?: NoticeTone;
  className?: string;
}) {
  return (
    <p
      className={`${className} ${className}-${tone}${message ? "" : ` ${className}-empty`}`}
      role={tone === "error" ? "alert" : "status"}
    >
      {message ?? ""}
    </p>
  );
}

/** An amount in the reader's language (`₩35,000`, `35,000원`). */
export function Money({ amount, currency, className }: { amount: number; currency: string; className?: string }) {
  const { i18n } = useTranslation();
  return <span className={className}>{formatAmount(amount, currency, i18n.language as Language)}</span>;
}

/** A line that says something is on its way, announced politely. */
export function Loading({ label, className = "loading" }: { label: string; className?: string }) {
  return (
    <p className={className} role="status">
      {label}
    </p>
  );
}

export interface Loaded<T> {
  data: T | undefined;
  /** What the load threw, as thrown: each app words it its own way. */
  error: unknown;
  loading: boolean;
  reload(): void;
}

/**
 * Loads once per `key` and again on `reload()`. `onError` sees every failure first: an app signs the tab out there
 * when the server no longer takes its session, so it asks for a new sign-in instead of an error on every screen.
 */
export function useLoad<T>(load: () => Promise<T>, key: string, onError?: (error: unknown) => void): Loaded<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({
    data: undefined,
    error: undefined,
    loading: true,
  });
  const [round, setRound] = useState(0);
  // The loader and the error hook are new functions each render; `key` says when they load something else.
  const run = useCallback(load, [key]);
  const failed = useRef(onError);
  failed.current = onError;
  useEffect(() => {
    let live = true;
    setState((previous) => ({ ...previous, loading: true }));
    run().then(
      (data) => live && setState({ data, error: undefined, loading: false }),
      (error: unknown) => {
        if (!live) return;
        failed.current?.(error);
        setState({ data: undefined, error, loading: false });
      },
    );
    return () => {
      live = false;
    };
  }, [run, round]);
  return { ...state, reload: () => setRound((n) => n + 1) };
}

/** The words and classes of a ConfirmDialog: the app's own. */
export interface DialogLook {
  /** The cancel button's label. */
  back: string;
  /** The confirm button's label while the action runs. */
  working: string;
  /**
   * The app's class prefix: `dash` gives `dash-dialog`, `dash-button dash-button-primary`, `dash-notice`…; none gives
   * the wallet's `dialog`, `button button-primary`, `notice`.
   */
  prefix?: string;
}

export interface ConfirmDialogProps {
  open: boolean;
  title: string;
  confirmLabel: string;
  danger?: boolean;
  busy?: boolean;
  error?: string | undefined;
  onConfirm(): void;
  onClose(): void;
  children?: ReactNode;
}

/**
 * A modal confirmation on the native <dialog> (focus moves in and back, Escape closes, the page behind is inert).
 * `children` holds the dialog's fields; `onConfirm` runs the action and the dialog stays open with its error if it
 * fails.
 */
export function ConfirmDialog({
  look,
  open,
  title,
  confirmLabel,
  danger = false,
  busy = false,
  error,
  onConfirm,
  onClose,
  children,
}: ConfirmDialogProps & { look: DialogLook }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  const c = (name: string) => (look.prefix ? `${look.prefix}-${name}` : name);
  const titleId = `dialog-${title.replace(/\W+/g, "-").toLowerCase()}`;
  return (
    <dialog ref={ref} className={c("dialog")} aria-labelledby={titleId} onClose={onClose}>
      <form
        method="dialog"
        className={c("dialog-form")}
        onSubmit={(event) => {
          event.preventDefault();
          onConfirm();
        }}
      >
        <h2 id={titleId} className={c("dialog-title")}>
          {title}
        </h2>
        {children}
        <Notice message={error} tone="error" className={c("notice")} />
        <div className={c("dialog-actions")}>
          <button type="button" className={`${c("button")} ${c("button-secondary")}`} onClick={onClose} disabled={busy}>
            {look.back}
          </button>
          <button
            type="submit"
            className={`${c("button")} ${c(danger ? "button-danger" : "button-primary")}`}
            disabled={busy}
          >
            {busy ? look.working : confirmLabel}
          </button>
        </div>
      </form>
    </dialog>
  );
}
