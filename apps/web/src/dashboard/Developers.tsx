/**
 * Developers: roll the secret key of this mode (the old one keeps working for the grace period chosen, the new one
 * is shown once), and webhook endpoints: list, add (URL and events), send a test event, rotate the signing secret,
 * and see why MPay disabled an endpoint that kept failing, to enable it again once fixed.
 * Test-send and rotate are `POST /v1/webhook-endpoints/{id}/test` and `/rotate-secret`; a server without them answers
 * 404 and the screen says the feature is not there yet.
 */
import { useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { formatDateTime } from "../shell/format.ts";
import { DashboardApiError, type ListOf, type WebhookEndpoint } from "./api.ts";
import { DashboardScreen } from "./Screen.tsx";
import { can, endpointNotice, EVENT_TYPES, ROLL_EXPIRIES } from "./model.ts";
import { ConfirmDialog, errorText, Loading, Notice, OneTimeSecret, useDashboard, useLoad } from "./ui.tsx";

export function Developers({ path }: { path: string }) {
  const { t } = useTranslation("dashboard");
  return (
    <DashboardScreen title={t("developers.title")} path={path}>
      <ApiKeys />
      <WebhookEndpoints />
    </DashboardScreen>
  );
}

function ApiKeys() {
  const { t, i18n } = useTranslation("dashboard");
  const { api, mode, session } = useDashboard();
  const [expiry, setExpiry] = useState<number>(86_400);
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const [rolled, setRolled] = useState<{ secretKey: string; oldKeysExpireAt: string } | null>(null);
  const allowed = can(session.user.role, "rollKey");
  const roll = async () => {
    setBusy(true);
    setError(undefined);
    try {
      setRolled(await api.post("/api-keys/roll", { expiresInSeconds: expiry }));
      setOpen(false);
    } catch (caught) {
      setError(errorText(caught, t));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="dash-card" aria-labelledby="keys-title">
      <h2 id="keys-title" className="dash-section-title">
        {t("keys.title", { mode: t(`modes.${mode}`) })}
      </h2>
      <p className="dash-hint">{t("keys.hint")}</p>
      {rolled && (
        <>
          <OneTimeSecret label={t("keys.newKey")} value={rolled.secretKey} />
          <p className="dash-hint">
            {t("keys.oldExpire", { when: formatDateTime(rolled.oldKeysExpireAt, i18n.language) })}
          </p>
        </>
      )}
      {allowed ? (
        <div className="dash-inline-form">
          <label className="dash-field">
            <span className="dash-label">{t("keys.expiry")}</span>
            <select className="dash-input" value={expiry} onChange={(event) => setExpiry(Number(event.target.value))}>
              {ROLL_EXPIRIES.map((seconds) => (
                <option key={seconds} value={seconds}>
                  {t(`keys.expiries.${seconds}`)}
                </option>
              ))}
            </select>
          </label>
          <button
            type="button"
            className="dash-button dash-button-primary"
            onClick={() => {
              setError(undefined);
              setOpen(true);
            }}
          >
            {t("keys.roll")}
          </button>
        </div>
      ) : (
        <p className="dash-hint">{t("actions.notAllowed", { role: t(`roles.${session.user.role}`) })}</p>
      )}
      <ConfirmDialog
        open={open}
        title={t("keys.rollTitle")}
        confirmLabel={t("keys.rollConfirm")}
        danger
        busy={busy}
        error={error}
        onConfirm={() => void roll()}
        onClose={() => setOpen(false)}
      >
        <p>{t("keys.rollBody", { expiry: t(`keys.expiries.${expiry}`) })}</p>
      </ConfirmDialog>
    </section>
  );
}

function WebhookEndpoints() {
  const { t } = useTranslation("dashboard");
  const { api, mode, session } = useDashboard();
  const list = useLoad(() => api.get<ListOf<WebhookEndpoint>>("/webhook-endpoints"), `${mode}:endpoints`);
  const [secret, setSecret] = useState<{ endpointId: string; secret: string } | null>(null);
  const [message, setMessage] = useState<{ text: string; tone: "success" | "error" } | undefined>();
  const allowed = can(session.user.role, "manageWebhooks");

  /**
   * Whether the pay server lacks the route (before branch `api`'s test and rotate routes): a 404 `route_not_found`,
   * or, since the pay server's not-found answer carries no CORS headers, a failed request while the endpoints'
   * list, on the same server, still answers.
   */
  const routeMissing = async (caught: unknown): Promise<boolean> => {
    if (!(caught instanceof DashboardApiError)) return false;
    if (caught.code === "route_not_found") return true;
    if (caught.code !== "network_error") return false;
    return api.get("/webhook-endpoints").then(
      () => true,
      () => false,
    );
  };

  const act = async (endpoint: WebhookEndpoint, action: "test" | "rotate-secret" | "enable") => {
    setMessage(undefined);
    try {
      const answer = await api.post<{
        secret?: string;
        status?: string;
        lastStatusCode?: number | null;
        lastError?: string | null;
      }>(`/webhook-endpoints/${encodeURIComponent(endpoint.id)}/${action}`, {});
      if (action === "enable") {
        setMessage({ text: t("webhooks.enabledAgain"), tone: "success" });
      } else if (action === "rotate-secret") {
        if (typeof answer.secret === "string") setSecret({ endpointId: endpoint.id, secret: answer.secret });
        setMessage({ text: t("webhooks.rotated"), tone: "success" });
      } else if (answer.status === "failed") {
        // The test delivery is tried once, and its answer comes back: say what the endpoint said.
        const said =
          typeof answer.lastStatusCode === "number"
            ? t("timeline.answered", { code: answer.lastStatusCode })
            : (answer.lastError ?? t("timeline.noAnswer"));
        setMessage({ text: t("webhooks.testFailed", { said }), tone: "error" });
      } else {
        const said =
          typeof answer.lastStatusCode === "number" ? t("timeline.answered", { code: answer.lastStatusCode }) : "";
        setMessage({ text: `${t("webhooks.testSent")} ${said}`.trim(), tone: "success" });
      }
      list.reload();
    } catch (caught) {
      setMessage({ text: (await routeMissing(caught)) ? t("webhooks.notYet") : errorText(caught, t), tone: "error" });
    }
  };

  return (
    <section className="dash-card" aria-labelledby="webhooks-title">
      <h2 id="webhooks-title" className="dash-section-title">
        {t("webhooks.title", { mode: t(`modes.${mode}`) })}
      </h2>
      <Notice message={message?.text} tone={message?.tone ?? "info"} />
      {secret && <OneTimeSecret label={t("webhooks.secret")} value={secret.secret} />}
      {list.loading && !list.data ? (
        <Loading />
      ) : list.error ? (
        <Notice message={errorText(list.error, t)} tone="error" />
      ) : list.data && list.data.data.length === 0 ? (
        <p className="dash-empty">{t("webhooks.none")}</p>
      ) : (
        <ul className="dash-endpoints">
          {list.data?.data.map((endpoint) => (
            <li key={endpoint.id} className="dash-endpoint">
              <p className="dash-endpoint-url">{endpoint.url}</p>
              <p className="dash-hint">
                {endpoint.status === "enabled" ? t("webhooks.enabled") : t("webhooks.disabled")} ·{" "}
                {endpoint.enabledEvents.includes("*") ? t("webhooks.allEvents") : endpoint.enabledEvents.join(", ")}
              </p>
              <EndpointHealthNotice endpoint={endpoint} />
              {allowed && endpoint.status === "disabled" && (
                <div className="dash-button-row">
                  <button
                    type="button"
                    className="dash-button dash-button-secondary dash-button-small"
                    onClick={() => void act(endpoint, "enable")}
                  >
                    {t("webhooks.enable")}
                  </button>
                </div>
              )}
              {allowed && endpoint.status === "enabled" && (
                <div className="dash-button-row">
                  <button
                    type="button"
                    className="dash-button dash-button-secondary dash-button-small"
                    onClick={() => void act(endpoint, "test")}
                  >
                    {t("webhooks.test")}
                  </button>
                  <button
                    type="button"
                    className="dash-button dash-button-secondary dash-button-small"
                    onClick={() => void act(endpoint, "rotate-secret")}
                  >
                    {t("webhooks.rotate")}
                  </button>
                </div>
              )}
            </li>
          ))}
        </ul>
      )}
      {allowed && (
        <AddEndpoint
          onAdded={(endpoint) => {
            if (endpoint.secret) setSecret({ endpointId: endpoint.id, secret: endpoint.secret });
            setMessage({ text: t("webhooks.added"), tone: "success" });
            list.reload();
          }}
        />
      )}
    </section>
  );
}

/** MPay disabled this endpoint for failing (or it is failing now): when, and since when, under its URL. */
function EndpointHealthNotice({ endpoint }: { endpoint: WebhookEndpoint }) {
  const { t, i18n } = useTranslation("dashboard");
  const notice = endpointNotice(endpoint);
  if (!notice) return null;
  const when = (iso: string) => formatDateTime(iso, i18n.language);
  return notice.kind === "autoDisabled" ? (
    <Notice
      message={t("webhooks.autoDisabled", {
        disabledAt: when(notice.disabledAt),
        failingSince: when(notice.failingSince),
      })}
      tone="error"
    />
  ) : (
    <Notice message={t("webhooks.failing", { failingSince: when(notice.failingSince) })} tone="info" />
  );
}

function AddEndpoint({ onAdded }: { onAdded(endpoint: WebhookEndpoint): void }) {
  const { t } = useTranslation("dashboard");
  const { api } = useDashboard();
  const [url, setUrl] = useState("");
  const [events, setEvents] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const endpoint = await api.post<WebhookEndpoint>("/webhook-endpoints", {
        url: url.trim(),
        ...(events.length > 0 ? { enabledEvents: events } : {}),
      });
      setUrl("");
      setEvents([]);
      onAdded(endpoint);
    } catch (caught) {
      setError(errorText(caught, t));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="dash-form dash-add-endpoint" onSubmit={(event) => void submit(event)}>
      <h3 className="dash-subtitle">{t("webhooks.add")}</h3>
      <label className="dash-field">
        <span className="dash-label">{t("webhooks.url")}</span>
        <input
          className="dash-input"
          type="url"
          name="url"
          required
          maxLength={2048}
          placeholder="https://shop.example/webhooks/mpay"
          value={url}
          onChange={(event) => setUrl(event.target.value)}
        />
      </label>
      <fieldset className="dash-fieldset">
        <legend className="dash-label">{t("webhooks.events")}</legend>
        <p className="dash-hint">{t("webhooks.eventsHint")}</p>
        <div className="dash-checks">
          {EVENT_TYPES.map((type) => (
            <label key={type} className="dash-check">
              <input
                type="checkbox"
                checked={events.includes(type)}
                onChange={(event) =>
                  setEvents(event.target.checked ? [...events, type] : events.filter((e) => e !== type))
                }
              />
              <span className="dash-cell-mono">{type}</span>
            </label>
          ))}
        </div>
      </fieldset>
      <Notice message={error} tone="error" />
      <button type="submit" className="dash-button dash-button-primary" disabled={busy}>
        {busy ? t("dialog.working") : t("webhooks.addButton")}
      </button>
    </form>
  );
}
