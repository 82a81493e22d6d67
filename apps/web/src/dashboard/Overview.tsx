/**
 * Overview: the last 30 days' daily totals (GET /v1/reports/daily) as a bar chart drawn in SVG (no chart library),
 * with the same numbers as a table beside it for screen readers and anyone who wants the figures; and the signed-in
 * user's own passkey (sign in without password and code next time).
 */
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { startRegistration } from "@simplewebauthn/browser";
import { formatDate } from "../shell/format.ts";
import { formatAmount, type Language } from "../shell/i18n.ts";
import { passkeySupport } from "../wallet/passkeys.ts";
import type { DailyRow } from "./api.ts";
import { DashboardScreen } from "./Screen.tsx";
import { niceMax } from "./model.ts";
import { errorText, Loading, Notice, useDashboard, useLoad } from "./ui.tsx";

const CURRENCIES = ["KRW", "USD", "JPY"] as const;
const DAYS = 30;

export function Overview({ path }: { path: string }) {
  const { t } = useTranslation("dashboard");
  const { api, mode } = useDashboard();
  const [currency, setCurrency] = useState<string>("KRW");
  const timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  const query = new URLSearchParams({ days: String(DAYS), currency, timeZone });
  const report = useLoad(
    () => api.get<{ data: DailyRow[] }>("/reports/daily", query),
    `${mode}:${currency}:${timeZone}`,
  );
  return (
    <DashboardScreen title={t("overview.title")} path={path}>
      <section className="dash-card" aria-labelledby="daily-title">
        <div className="dash-card-head">
          <h2 id="daily-title" className="dash-section-title">
            {t("overview.daily", { days: DAYS })}
          </h2>
          <label className="dash-field dash-field-inline">
            <span className="dash-label">{t("overview.currency")}</span>
            <select className="dash-input" value={currency} onChange={(event) => setCurrency(event.target.value)}>
              {CURRENCIES.map((code) => (
                <option key={code} value={code}>
                  {code}
                </option>
              ))}
            </select>
          </label>
        </div>
        {report.loading && !report.data ? (
          <Loading />
        ) : report.error ? (
          <Notice message={errorText(report.error, t)} tone="error" />
        ) : report.data ? (
          <>
            <Totals rows={report.data.data} currency={currency} />
            <DailyChart rows={report.data.data} currency={currency} />
            <details className="dash-details">
              <summary>{t("overview.showTable")}</summary>
              <DailyTable rows={report.data.data} currency={currency} />
            </details>
          </>
        ) : null}
      </section>
      <YourPasskey />
    </DashboardScreen>
  );
}

function Totals({ rows, currency }: { rows: DailyRow[]; currency: string }) {
  const { t, i18n } = useTranslation("dashboard");
  const language = i18n.language as Language;
  const sum = (field: keyof Omit<DailyRow, "date">) => rows.reduce((total, row) => total + row[field], 0);
  const items = [
    { key: "count", value: String(sum("count")) },
    { key: "captured", value: formatAmount(sum("captured"), currency, language) },
    { key: "refunded", value: formatAmount(sum("refunded"), currency, language) },
    { key: "net", value: formatAmount(sum("net"), currency, language) },
  ];
  return (
    <dl className="dash-totals">
      {items.map((item) => (
        <div key={item.key} className="dash-total">
          <dt>{t(`overview.totals.${item.key}`)}</dt>
          <dd>{item.value}</dd>
        </div>
      ))}
    </dl>
  );
}

/**
 * Net per day as bars (captured − refunded; a day whose refunds exceed its captures draws below the axis). The SVG
 * is one image with a text alternative (the period's total and its best day); the table below has every number.
 */
export function DailyChart({ rows, currency }: { rows: DailyRow[]; currency: string }) {
  const { t, i18n } = useTranslation("dashboard");
  const language = i18n.language as Language;
  const width = 640;
  const height = 220;
  const pad = { top: 12, right: 8, bottom: 28, left: 8 };
  const top = niceMax(Math.max(0, ...rows.map((row) => row.net)));
  const lowest = Math.min(0, ...rows.map((row) => row.net));
  const floor = lowest < 0 ? -niceMax(-lowest) : 0;
  const span = top - floor;
  const plotHeight = height - pad.top - pad.bottom;
  const y = (value: number) => pad.top + ((top - value) / span) * plotHeight;
  const slot = (width - pad.left - pad.right) / Math.max(1, rows.length);
  const best = rows.reduce<DailyRow | null>((b, row) => (b === null || row.net > b.net ? row : b), null);
  const total = rows.reduce((sum, row) => sum + row.net, 0);
  const summary = t("overview.chartSummary", {
    days: rows.length,
    total: formatAmount(total, currency, language),
    best: best && best.net > 0 ? formatDate(`${best.date}T12:00:00`, language) : "—",
    bestAmount: best && best.net > 0 ? formatAmount(best.net, currency, language) : "—",
  });
  const label = (date: string) => formatDate(`${date}T12:00:00`, language);
  return (
    <figure className="dash-chart">
      <p className="dash-chart-scale" aria-hidden="true">
        <span>{formatAmount(top, currency, language)}</span>
      </p>
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={summary} preserveAspectRatio="none">
        <line x1={pad.left} x2={width - pad.right} y1={y(0)} y2={y(0)} className="dash-chart-axis" />
        {rows.map((row, i) => {
          const x = pad.left + i * slot + slot * 0.15;
          const h = Math.abs(y(row.net) - y(0));
          return (
            <rect
              key={row.date}
              x={x}
              width={slot * 0.7}
              y={row.net >= 0 ? y(row.net) : y(0)}
              height={row.net === 0 ? 0 : Math.max(1, h)}
              className={row.net >= 0 ? "dash-chart-bar" : "dash-chart-bar dash-chart-bar-negative"}
            >
              <title>{`${label(row.date)}: ${formatAmount(row.net, currency, language)}`}</title>
            </rect>
          );
        })}
      </svg>
      <p className="dash-chart-scale" aria-hidden="true">
        <span>{rows.length > 0 ? label(rows[0]!.date) : ""}</span>
        {floor < 0 && <span>{formatAmount(floor, currency, language)}</span>}
        <span>{rows.length > 0 ? label(rows.at(-1)!.date) : ""}</span>
      </p>
      <figcaption className="dash-hint">{t("overview.chartCaption")}</figcaption>
    </figure>
  );
}

function DailyTable({ rows, currency }: { rows: DailyRow[]; currency: string }) {
  const { t, i18n } = useTranslation("dashboard");
  const language = i18n.language as Language;
  const money = (amount: number) => formatAmount(amount, currency, language);
  return (
    <div className="dash-table-scroll">
      <table className="dash-table">
        <caption className="dash-visually-hidden">{t("overview.tableCaption")}</caption>
        <thead>
          <tr>
            <th scope="col">{t("overview.date")}</th>
            <th scope="col">{t("overview.totals.count")}</th>
            <th scope="col">{t("overview.totals.authorized")}</th>
            <th scope="col">{t("overview.totals.captured")}</th>
            <th scope="col">{t("overview.totals.refunded")}</th>
            <th scope="col">{t("overview.totals.net")}</th>
          </tr>
        </thead>
        <tbody>
          {[...rows].reverse().map((row) => (
            <tr key={row.date}>
              <th scope="row">{formatDate(`${row.date}T12:00:00`, language)}</th>
              <td>{row.count}</td>
              <td>{money(row.authorized)}</td>
              <td>{money(row.captured)}</td>
              <td>{money(row.refunded)}</td>
              <td>{money(row.net)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function YourPasskey() {
  const { t } = useTranslation("dashboard");
  const { api } = useDashboard();
  const [message, setMessage] = useState<{ text: string; tone: "success" | "error" } | undefined>();
  const [busy, setBusy] = useState(false);
  const support = passkeySupport();
  const add = async () => {
    setBusy(true);
    setMessage(undefined);
    try {
      const options = await api.post<Record<string, unknown>>("/dashboard/passkeys/options", {});
      const response = await startRegistration({ optionsJSON: options as never });
      await api.post("/dashboard/passkeys", { response });
      setMessage({ text: t("passkey.added"), tone: "success" });
    } catch (caught) {
      setMessage({
        text:
          caught instanceof Error && caught.name === "NotAllowedError"
            ? t("signIn.passkeyCanceled")
            : errorText(caught, t),
        tone: "error",
      });
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="dash-card" aria-labelledby="passkey-title">
      <h2 id="passkey-title" className="dash-section-title">
        {t("passkey.title")}
      </h2>
      <p className="dash-hint">{support === "available" ? t("passkey.hint") : t("signIn.passkeyUnavailable")}</p>
      <button
        type="button"
        className="dash-button dash-button-secondary"
        disabled={busy || support !== "available"}
        onClick={() => void add()}
      >
        {t("passkey.add")}
      </button>
      <Notice message={message?.text} tone={message?.tone ?? "info"} />
    </section>
  );
}
