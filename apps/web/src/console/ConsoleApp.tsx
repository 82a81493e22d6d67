/**
 * The operator console (issue 10, deliverable 4) at /console, for the pay company's staff: sign-in (password, then
 * the authenticator's code, set up from a QR code the first time), then one page of sections — merchants (create,
 * suspend behind a confirmation: admins), the vault, key versions, the reconciler's queue, the webhook backlog and
 * the audit log's verification. Everything through the pay server's /v1/staff routes with the staff session.
 */
import { useCallback, useEffect, useState, type ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { SignedInHeader } from "../dashboard/Screen.tsx";
import { TwoStepSignIn } from "../dashboard/SignIn.tsx";
import { ConfirmDialog, errorText, Notice, OneTimeSecret } from "../dashboard/ui.tsx";
import { appConfig } from "../shell/config.ts";
import { Loading, useLoad as useShellLoad } from "../shell/ui.tsx";
import { ConsoleApi, ConsoleApiError, type AuditVerification, type ConsoleMerchant, type StaffSession } from "./api.ts";
import { forgetStaffSession, loadStaffSession, saveStaffSession } from "./session.ts";
import "../dashboard/texts.ts";
import "../dashboard/dashboard.css";
import "./texts.ts";
import "./console.css";

export function ConsoleApp() {
  const { payUrl } = appConfig();
  const [session, setSession] = useState<StaffSession | undefined>(() => loadStaffSession());
  const signOut = useCallback(() => {
    forgetStaffSession();
    setSession(undefined);
  }, []);
  if (!session)
    return (
      <TwoStepSignIn
        texts="console"
        api={new ConsoleApi(payUrl)}
        onSignedIn={(signedIn) => {
          saveStaffSession(signedIn);
          setSession(signedIn);
        }}
      />
    );
  return <ConsolePage session={session} api={new ConsoleApi(payUrl, session.token)} onSignOut={signOut} />;
}

/** The shell's load; a 401 (the staff session is over) signs the tab out. */
function useLoad<T>(load: () => Promise<T>, key: string, onSignOut: () => void) {
  return useShellLoad(load, key, (error) => {
    if (error instanceof ConsoleApiError && error.status === 401) onSignOut();
  });
}

function Section({
  id,
  title,
  children,
  action,
}: {
  id: string;
  title: string;
  children: ReactNode;
  action?: ReactNode;
}) {
  return (
    <section className="dash-card console-section" aria-labelledby={`${id}-title`} data-testid={`console-${id}`}>
      <div className="dash-card-head">
        <h2 id={`${id}-title`} className="dash-section-title">
          {title}
        </h2>
        {action}
      </div>
      {children}
    </section>
  );
}

function Loaded<T>({ state, children }: { state: { data?: T; error?: unknown }; children(data: T): ReactNode }) {
  const { t } = useTranslation("console");
  if (state.error) return <Notice message={errorText(state.error, t)} tone="error" />;
  if (state.data === undefined) return <Loading label={t("loading")} className="dash-loading" />;
  return <>{children(state.data)}</>;
}

function ConsolePage({ session, api, onSignOut }: { session: StaffSession; api: ConsoleApi; onSignOut(): void }) {
  const { t, i18n } = useTranslation("console");
  useEffect(() => {
    document.title = `${t("title")} · ${t("brand")}`;
  }, [t]);
  const when = (iso: string | null) =>
    iso ? new Date(iso).toLocaleString(i18n.language, { dateStyle: "medium", timeStyle: "short" }) : "—";
  const vault = useLoad(() => api.vault(), "vault", onSignOut);
  const keys = useLoad(() => api.keys(), "keys", onSignOut);
  const queue = useLoad(() => api.reconciler(), "reconciler", onSignOut);
  const backlog = useLoad(() => api.webhooks(), "webhooks", onSignOut);
  const [audit, setAudit] = useState<{ report?: AuditVerification; error?: unknown; busy: boolean }>({ busy: false });
  const verify = () => {
    setAudit({ busy: true });
    api.auditVerify().then(
      (report) => setAudit({ report, busy: false }),
      (error: unknown) => setAudit({ error, busy: false }),
    );
  };
  return (
    <div className="dash">
      <SignedInHeader
        brand={t("brand")}
        user={{ name: session.staff.name, role: t(`roles.${session.staff.role}`) }}
        signOutLabel={t("signOut")}
        onSignOut={() => {
          void api.signOut().catch(() => undefined);
          onSignOut();
        }}
      />
      <main className="dash-main">
        <h1 className="dash-title">{t("title")}</h1>
        <Merchants api={api} admin={session.staff.role === "admin"} onSignOut={onSignOut} when={when} />
        <div className="console-grid">
          <Section id="vault" title={t("vault.title")}>
            <Loaded state={vault}>
              {(v) => (
                <dl className="console-facts">
                  <dt>{t("vault.kind")}</dt>
                  <dd>{v.kind}</dd>
                  <dt>{t("vault.state")}</dt>
                  <dd data-testid="vault-state">
                    {!v.initialized ? t("vault.notInitialized") : v.sealed ? t("vault.sealed") : t("vault.unsealed")}
                  </dd>
                  {v.custody && (
                    <>
                      <dt>{t("vault.progress")}</dt>
                      <dd>
                        {t("vault.progressValue", {
                          received: v.sealed ? v.custody.sharesReceived : v.custody.threshold,
                          threshold: v.custody.threshold,
                        })}
                      </dd>
                    </>
                  )}
                </dl>
              )}
            </Loaded>
          </Section>
          <Section id="keys" title={t("keys.title")}>
            <Loaded state={keys}>
              {(k) => (
                <dl className="console-facts">
                  <dt>{t("keys.current")}</dt>
                  <dd>{k.currentKeyVersion ?? t("keys.none")}</dd>
                  <dt>{t("keys.readable")}</dt>
                  <dd>{k.keyVersions.length ? k.keyVersions.join(", ") : t("keys.none")}</dd>
                  {k.custodyGeneration !== null && (
                    <>
                      <dt>{t("keys.generation")}</dt>
                      <dd>{k.custodyGeneration}</dd>
                    </>
                  )}
                  {k.rekeyPending && <dd className="console-warning">{t("keys.rekeyPending")}</dd>}
                </dl>
              )}
            </Loaded>
          </Section>
          <Section id="reconciler" title={t("reconciler.title")}>
            <Loaded state={queue}>
              {(q) =>
                q.count === 0 ? (
                  <p className="dash-hint">{t("reconciler.empty")}</p>
                ) : (
                  <>
                    <p>
                      {t("reconciler.count")}: <strong>{q.count}</strong>
                    </p>
                    <div className="dash-table-scroll">
                      <table className="dash-table">
                        <thead>
                          <tr>
                            <th scope="col">{t("reconciler.kind")}</th>
                            <th scope="col">{t("reconciler.payment")}</th>
                            <th scope="col">{t("reconciler.attempts")}</th>
                            <th scope="col">{t("reconciler.since")}</th>
                          </tr>
                        </thead>
                        <tbody>
                          {q.oldest.map((op) => (
                            <tr key={op.id}>
                              <td>{op.kind}</td>
                              <td className="dash-cell-mono">{op.paymentId}</td>
                              <td>{op.attempts}</td>
                              <td>{when(op.createdAt)}</td>
                            </tr>
                          ))}
                        </tbody>
                      </table>
                    </div>
                  </>
                )
              }
            </Loaded>
          </Section>
          <Section id="webhooks" title={t("webhooks.title")}>
            <Loaded state={backlog}>
              {(b) => (
                <dl className="console-facts">
                  <dt>{t("webhooks.pending")}</dt>
                  <dd>
                    {b.pending.count}
                    {b.pending.oldest ? ` · ${t("webhooks.oldest", { at: when(b.pending.oldest) })}` : ""}
                  </dd>
                  <dt>{t("webhooks.failed")}</dt>
                  <dd>
                    {b.failed.count}
                    {b.failed.oldest ? ` · ${t("webhooks.oldest", { at: when(b.failed.oldest) })}` : ""}
                  </dd>
                </dl>
              )}
            </Loaded>
          </Section>
          <Section
            id="audit"
            title={t("audit.title")}
            action={
              <button
                type="button"
                className="dash-button dash-button-secondary"
                onClick={verify}
                disabled={audit.busy}
              >
                {audit.busy ? t("dialog.working") : t("audit.verify")}
              </button>
            }
          >
            <div role="status" data-testid="audit-result">
              {audit.report ? (
                audit.report.ok ? (
                  <p className="console-ok">
                    {t("audit.ok", { entries: audit.report.entries, heads: audit.report.heads })}
                  </p>
                ) : (
                  <>
                    <p className="console-warning">{t("audit.broken", { entries: audit.report.entries })}</p>
                    <ul>
                      {audit.report.problems.map((p) => (
                        <li key={`${p.seq}-${p.kind}`}>
                          {p.seq ?? "—"} {p.kind}: {p.message}
                        </li>
                      ))}
                    </ul>
                  </>
                )
              ) : audit.error ? (
                <Notice message={errorText(audit.error, t)} tone="error" />
              ) : (
                <p className="dash-hint">{t("audit.notYet")}</p>
              )}
            </div>
          </Section>
        </div>
      </main>
    </div>
  );
}

function Merchants({
  api,
  admin,
  onSignOut,
  when,
}: {
  api: ConsoleApi;
  admin: boolean;
  onSignOut(): void;
  when(iso: string | null): string;
}) {
  const { t } = useTranslation("console");
  const list = useLoad(() => api.merchants(), "merchants", onSignOut);
  const [creating, setCreating] = useState(false);
  const [form, setForm] = useState({ name: "", displayName: "", origins: "" });
  const [created, setCreated] = useState<{ name: string; secretKey: string; publishableKey: string } | null>(null);
  const [target, setTarget] = useState<ConsoleMerchant | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const act = async (work: () => Promise<void>) => {
    setBusy(true);
    setError(undefined);
    try {
      await work();
      list.reload();
    } catch (caught) {
      setError(errorText(caught, t));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Section
      id="merchants"
      title={t("merchants.title")}
      action={
        admin ? (
          <button type="button" className="dash-button dash-button-primary" onClick={() => setCreating(true)}>
            {t("merchants.create")}
          </button>
        ) : undefined
      }
    >
      {!admin && <p className="dash-hint">{t("merchants.readOnly")}</p>}
      {created && (
        <div className="console-created" data-testid="merchant-created">
          <p>{t("merchants.created", { name: created.name })}</p>
          <OneTimeSecret label={t("merchants.secretKey")} value={created.secretKey} />
          <p className="dash-secret-label">{t("merchants.publishableKey")}</p>
          <code className="dash-secret-value">{created.publishableKey}</code>
        </div>
      )}
      <Loaded state={list}>
        {(merchants) => (
          <div className="dash-table-scroll">
            <table className="dash-table dash-table-cards console-merchants">
              <thead>
                <tr>
                  <th scope="col">{t("merchants.name")}</th>
                  <th scope="col">{t("merchants.id")}</th>
                  <th scope="col">{t("merchants.status")}</th>
                  {admin && <th scope="col">{t("merchants.actions")}</th>}
                </tr>
              </thead>
              <tbody>
                {merchants.map((m) => (
                  <tr key={m.id} data-testid={`merchant-${m.id}`}>
                    <td className="dash-cell-text" data-label={t("merchants.name")}>
                      {m.name}
                      {m.displayName !== m.name && <span className="console-muted"> · {m.displayName}</span>}
                    </td>
                    <td className="dash-cell-mono" data-label={t("merchants.id")}>
                      {m.id}
                    </td>
                    <td data-label={t("merchants.status")}>
                      <span>
                        <span className={`console-badge${m.suspended ? " console-badge-suspended" : ""}`}>
                          {m.suspended ? t("merchants.suspended") : t("merchants.active")}
                        </span>
                        {m.suspended && <span className="console-muted"> {when(m.suspendedAt)}</span>}
                      </span>
                    </td>
                    {admin && (
                      <td data-label={t("merchants.actions")}>
                        <button
                          type="button"
                          className={`dash-button dash-button-small ${m.suspended ? "dash-button-secondary" : "dash-button-danger-outline"}`}
                          onClick={() => {
                            setError(undefined);
                            setTarget(m);
                          }}
                          aria-label={`${m.suspended ? t("merchants.unsuspend") : t("merchants.suspend")}: ${m.name}`}
                        >
                          {m.suspended ? t("merchants.unsuspend") : t("merchants.suspend")}
                        </button>
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Loaded>
      <ConfirmDialog
        open={creating}
        title={t("merchants.createTitle")}
        confirmLabel={t("merchants.create")}
        busy={busy}
        error={error}
        onClose={() => {
          setCreating(false);
          setError(undefined);
        }}
        onConfirm={() =>
          void act(async () => {
            const origins = form.origins
              .split(/\s+/)
              .map((o) => o.trim())
              .filter(Boolean);
            const made = await api.createMerchant({
              name: form.name,
              ...(form.displayName.trim() ? { displayName: form.displayName } : {}),
              allowedOrigins: origins,
            });
            setCreated({ name: made.merchant.name, secretKey: made.secretKey, publishableKey: made.publishableKey });
            setForm({ name: "", displayName: "", origins: "" });
            setCreating(false);
          })
        }
      >
        <label className="dash-field">
          <span className="dash-label">{t("merchants.name")}</span>
          <input
            className="dash-input"
            name="merchant-name"
            required
            maxLength={100}
            value={form.name}
            onChange={(event) => setForm({ ...form, name: event.target.value })}
          />
        </label>
        <label className="dash-field">
          <span className="dash-label">{t("merchants.displayName")}</span>
          <input
            className="dash-input"
            name="merchant-display-name"
            maxLength={100}
            value={form.displayName}
            onChange={(event) => setForm({ ...form, displayName: event.target.value })}
          />
        </label>
        <label className="dash-field">
          <span className="dash-label">{t("merchants.origins")}</span>
          <textarea
            className="dash-input"
            name="merchant-origins"
            rows={2}
            value={form.origins}
            onChange={(event) => setForm({ ...form, origins: event.target.value })}
          />
        </label>
      </ConfirmDialog>
      <ConfirmDialog
        open={target !== null}
        title={
          target?.suspended
            ? t("merchants.unsuspendTitle", { name: target?.name ?? "" })
            : t("merchants.suspendTitle", { name: target?.name ?? "" })
        }
        confirmLabel={target?.suspended ? t("merchants.unsuspend") : t("merchants.suspend")}
        danger={!target?.suspended}
        busy={busy}
        error={error}
        onClose={() => setTarget(null)}
        onConfirm={() =>
          void act(async () => {
            if (target) await api.setSuspended(target.id, !target.suspended);
            setTarget(null);
          })
        }
      >
        <p>{target?.suspended ? t("merchants.unsuspendBody") : t("merchants.suspendBody")}</p>
      </ConfirmDialog>
    </Section>
  );
}
