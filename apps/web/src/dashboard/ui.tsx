/**
 * The dashboard's small pieces: its context, error wording, and the shell's shared pieces (shell/ui.tsx) in the
 * dashboard's look and words: links, notices, loads, a confirmation dialog; and its own copy button and one-time secret.
 */
import { createContext, useContext, useState } from "react";
import { useTranslation } from "react-i18next";
import type { TFunction } from "i18next";
import {
  ConfirmDialog as ShellConfirmDialog,
  Loading as ShellLoading,
  Notice as ShellNotice,
  useLoad as useShellLoad,
  type ConfirmDialogProps,
  type Loaded,
  type NoticeTone,
} from "../shell/ui.tsx";
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

/** Links through the app's router (the dashboard calls them DashLink) and amounts, as the shell makes them. */
export { Link as DashLink, Money } from "../shell/ui.tsx";

/** What went wrong, in the reader's words: known codes have their own text, anything else the server's message. */
export function errorText(error: unknown, t: TFunction): string {
  if (error instanceof DashboardApiError) {
    const key = `errors.${error.code}`;
    const known = t(key, { message: error.message });
    if (known !== key) return known;
    return t("errors.other", { message: error.message });
  }
  return t("errors.unexpected");
}

/** The shell's live region in the dashboard's look. */
export function Notice({ message, tone }: { message: string | undefined; tone?: NoticeTone }) {
  return <ShellNotice message={message} tone={tone} className="dash-notice" />;
}

/** The shell's load; a session the server no longer accepts (401) signs this tab out, to ask for a new sign-in. */
export function useLoad<T>(load: () => Promise<T>, key: string): Loaded<T> {
  const { signOut } = useDashboard();
  return useShellLoad(load, key, (error) => {
    if (error instanceof DashboardApiError && error.status === 401) signOut();
  });
}

export function Loading() {
  const { t } = useTranslation("dashboard");
  return <ShellLoading label={t("loading")} className="dash-loading" />;
}

/** The shell's confirmation dialog with the dashboard's words and look (the operator console's too). */
export function ConfirmDialog(props: ConfirmDialogProps) {
  const { t } = useTranslation("dashboard");
  return (
    <ShellConfirmDialog look={{ back: t("dialog.back"), working: t("dialog.working"), prefix: "dash" }} {...props} />
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
