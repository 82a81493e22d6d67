/**
 * Payments: search (order id or item name), status, a date range, pages of 20 walked with `startingAfter`, and the
 * CSV export of what the filters select. A table at desktop width, a list of cards on a phone (dashboard.css).
 */
import { useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { formatDateTime } from "../shell/format.ts";
import type { ListOf, Payment } from "./api.ts";
import { DashboardScreen } from "./Screen.tsx";
import {
  currentCursor,
  displayStatus,
  filterQuery,
  filtersInvalid,
  firstPage,
  nextPage,
  NO_FILTERS,
  pageNumber,
  PAYMENT_STATUSES,
  previousPage,
  type PaymentFilters,
} from "./model.ts";
import { DashLink, errorText, Loading, Money, Notice, useDashboard, useLoad } from "./ui.tsx";

const PAGE_SIZE = 20;

export function Payments({ path }: { path: string }) {
  const { t } = useTranslation("dashboard");
  const { api, mode } = useDashboard();
  const [filters, setFilters] = useState<PaymentFilters>(NO_FILTERS);
  const [pager, setPager] = useState(firstPage);
  const query = filterQuery(filters);
  const cursor = currentCursor(pager);
  const listQuery = new URLSearchParams(query);
  listQuery.set("limit", String(PAGE_SIZE));
  if (cursor) listQuery.set("startingAfter", cursor);
  const list = useLoad(() => api.get<ListOf<Payment>>("/payments", listQuery), `${mode}?${listQuery}`);

  return (
    <DashboardScreen title={t("payments.title")} path={path}>
      <FilterForm
        initial={filters}
        onApply={(next) => {
          setFilters(next);
          setPager(firstPage());
        }}
      />
      <ExportButton query={query} />
      {list.loading && !list.data ? (
        <Loading />
      ) : list.error ? (
        <Notice message={errorText(list.error, t)} tone="error" />
      ) : list.data && list.data.data.length === 0 ? (
        <p className="dash-empty">{t("payments.none")}</p>
      ) : list.data ? (
        <PaymentTable payments={list.data.data} />
      ) : null}
      <nav className="dash-pager" aria-label={t("payments.pages")}>
        <button
          type="button"
          className="dash-button dash-button-secondary"
          disabled={pageNumber(pager) === 1 || list.loading}
          onClick={() => setPager(previousPage(pager))}
        >
          {t("payments.previous")}
        </button>
        <span className="dash-pager-page">{t("payments.page", { page: pageNumber(pager) })}</span>
        <button
          type="button"
          className="dash-button dash-button-secondary"
          disabled={!list.data?.hasMore || list.loading}
          onClick={() => {
            const last = list.data?.data.at(-1);
            if (last) setPager(nextPage(pager, last.id));
          }}
        >
          {t("payments.next")}
        </button>
      </nav>
    </DashboardScreen>
  );
}

function FilterForm({ initial, onApply }: { initial: PaymentFilters; onApply(filters: PaymentFilters): void }) {
  const { t } = useTranslation("dashboard");
  const [draft, setDraft] = useState(initial);
  const invalid = filtersInvalid(draft);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!invalid) onApply(draft);
  };
  const set = (field: keyof PaymentFilters) => (event: { target: { value: string } }) =>
    setDraft({ ...draft, [field]: event.target.value });
  return (
    <form className="dash-filters" role="search" aria-label={t("payments.filters")} onSubmit={submit}>
      <label className="dash-field dash-field-search">
        <span className="dash-label">{t("payments.search")}</span>
        <input
          className="dash-input"
          type="search"
          name="q"
          maxLength={100}
          placeholder={t("payments.searchPlaceholder")}
          value={draft.q}
          onChange={set("q")}
        />
      </label>
      <label className="dash-field">
        <span className="dash-label">{t("payments.status")}</span>
        <select className="dash-input" name="status" value={draft.status} onChange={set("status")}>
          <option value="">{t("payments.anyStatus")}</option>
          {PAYMENT_STATUSES.map((status) => (
            <option key={status} value={status}>
              {t(`status.${status}`)}
            </option>
          ))}
        </select>
      </label>
      <label className="dash-field">
        <span className="dash-label">{t("payments.from")}</span>
        <input className="dash-input" type="date" name="from" value={draft.from} onChange={set("from")} />
      </label>
      <label className="dash-field">
        <span className="dash-label">{t("payments.to")}</span>
        <input
          className="dash-input"
          type="date"
          name="to"
          value={draft.to}
          onChange={set("to")}
          aria-invalid={invalid}
          aria-describedby={invalid ? "filters-invalid" : undefined}
        />
      </label>
      <div className="dash-filters-actions">
        <button type="submit" className="dash-button dash-button-primary" disabled={invalid}>
          {t("payments.apply")}
        </button>
        <button
          type="button"
          className="dash-button dash-button-text"
          onClick={() => {
            setDraft(NO_FILTERS);
            onApply(NO_FILTERS);
          }}
        >
          {t("payments.clear")}
        </button>
      </div>
      {invalid && (
        <p id="filters-invalid" className="dash-field-error">
          {t("payments.rangeInvalid")}
        </p>
      )}
    </form>
  );
}

/** Downloads export.csv with the list's filters, through the API like every other call (the session is a header). */
function ExportButton({ query }: { query: URLSearchParams }) {
  const { t } = useTranslation("dashboard");
  const { api } = useDashboard();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const exportCsv = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const { blob, fileName } = await api.download("/payments/export.csv", query, "payments");
      const url = URL.createObjectURL(blob);
      const link = document.createElement("a");
      link.href = url;
      link.download = fileName;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (caught) {
      setError(errorText(caught, t));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="dash-export">
      <button
        type="button"
        className="dash-button dash-button-secondary"
        onClick={() => void exportCsv()}
        disabled={busy}
      >
        {busy ? t("payments.exporting") : t("payments.export")}
      </button>
      <Notice message={error} tone="error" />
    </div>
  );
}

function PaymentTable({ payments }: { payments: Payment[] }) {
  const { t, i18n } = useTranslation("dashboard");
  return (
    <table className="dash-table dash-table-cards">
      <caption className="dash-visually-hidden">{t("payments.caption")}</caption>
      <thead>
        <tr>
          <th scope="col">{t("payments.amount")}</th>
          <th scope="col">{t("payments.status")}</th>
          <th scope="col">{t("payments.item")}</th>
          <th scope="col">{t("payments.order")}</th>
          <th scope="col">{t("payments.created")}</th>
        </tr>
      </thead>
      <tbody>
        {payments.map((payment) => (
          <tr key={payment.id}>
            <td data-label={t("payments.amount")} className="dash-cell-amount">
              <DashLink to={`/dashboard/payments/${payment.id}`} className="dash-row-link">
                <Money amount={payment.amount} currency={payment.currency} />
                <span className="dash-visually-hidden"> {payment.itemName}</span>
              </DashLink>
            </td>
            <td data-label={t("payments.status")}>
              <StatusBadge status={displayStatus(payment)} />
            </td>
            <td data-label={t("payments.item")} className="dash-cell-text">
              {payment.itemName}
            </td>
            <td data-label={t("payments.order")} className="dash-cell-mono">
              {payment.orderId}
            </td>
            <td data-label={t("payments.created")}>{formatDateTime(payment.createdAt, i18n.language)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function StatusBadge({ status }: { status: string }) {
  const { t } = useTranslation("dashboard");
  return <span className={`dash-status dash-status-${status}`}>{t(`status.${status}`, { defaultValue: status })}</span>;
}
