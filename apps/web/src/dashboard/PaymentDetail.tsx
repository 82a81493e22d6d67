/**
 * One payment: what it is, what can be done with it (capture, cancel, refund — each behind a confirmation, a refund
 * for any part of what is left, checked before it is sent), and its timeline: state changes, refunds, events and the
 * webhook deliveries with the endpoint's answer and a way to send a failed one again. A role that may not act sees
 * why instead of a button (the pay server refuses it anyway).
 */
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { formatDateTime } from "../shell/format.ts";
import { formatAmount, type Language } from "../shell/i18n.ts";
import type { Payment, Timeline, TimelineEntry } from "./api.ts";
import { DashboardScreen } from "./Screen.tsx";
import { amountInput, can, displayStatus, parseAmount, paymentActions } from "./model.ts";
import { StatusBadge } from "./Payments.tsx";
import { ConfirmDialog, DashLink, errorText, Loading, Money, Notice, useDashboard, useLoad } from "./ui.tsx";

type PaymentAction = "capture" | "cancel" | "refund";

export function PaymentDetail({ paymentId, path }: { paymentId: string; path: string }) {
  const { t } = useTranslation("dashboard");
  const { api, mode } = useDashboard();
  const id = encodeURIComponent(paymentId);
  const payment = useLoad(() => api.get<Payment>(`/payments/${id}`), `${mode}:${paymentId}`);
  const timeline = useLoad(() => api.get<Timeline>(`/payments/${id}/timeline`), `${mode}:${paymentId}:timeline`);
  const [done, setDone] = useState<string | undefined>();
  const reload = (message: string) => {
    setDone(message);
    payment.reload();
    timeline.reload();
  };

  return (
    <DashboardScreen title={t("payment.title")} path={path}>
      <DashLink to="/dashboard/payments" className="dash-back">
        <span aria-hidden="true">‹ </span>
        {t("payment.back")}
      </DashLink>
      <Notice message={done} tone="success" />
      {payment.loading && !payment.data ? (
        <Loading />
      ) : payment.error ? (
        <Notice message={errorText(payment.error, t)} tone="error" />
      ) : payment.data ? (
        <>
          <Summary payment={payment.data} />
          <Actions payment={payment.data} onDone={reload} />
        </>
      ) : null}
      <section className="dash-card" aria-labelledby="timeline-title">
        <h2 id="timeline-title" className="dash-section-title">
          {t("timeline.title")}
        </h2>
        {timeline.loading && !timeline.data ? (
          <Loading />
        ) : timeline.error ? (
          <Notice message={errorText(timeline.error, t)} tone="error" />
        ) : timeline.data ? (
          <TimelineList timeline={timeline.data} onRetried={() => reload(t("timeline.retried"))} />
        ) : null}
      </section>
    </DashboardScreen>
  );
}

function Summary({ payment }: { payment: Payment }) {
  const { t, i18n } = useTranslation("dashboard");
  const when = (iso: string | null) => (iso ? formatDateTime(iso, i18n.language) : "—");
  return (
    <section className="dash-card dash-summary" aria-labelledby="payment-amount">
      <p id="payment-amount" className="dash-summary-amount">
        <Money amount={payment.amount} currency={payment.currency} /> <StatusBadge status={displayStatus(payment)} />
      </p>
      <p className="dash-summary-item">{payment.itemName}</p>
      <dl className="dash-facts">
        <div>
          <dt>{t("payment.id")}</dt>
          <dd className="dash-cell-mono">{payment.id}</dd>
        </div>
        <div>
          <dt>{t("payments.order")}</dt>
          <dd className="dash-cell-mono">{payment.orderId}</dd>
        </div>
        <div>
          <dt>{t("payment.captured")}</dt>
          <dd>
            <Money amount={payment.amountCaptured} currency={payment.currency} />
          </dd>
        </div>
        <div>
          <dt>{t("payment.refunded")}</dt>
          <dd>
            <Money amount={payment.amountRefunded} currency={payment.currency} />
          </dd>
        </div>
        <div>
          <dt>{t("payment.refundable")}</dt>
          <dd>
            <Money amount={payment.amountRefundable} currency={payment.currency} />
          </dd>
        </div>
        <div>
          <dt>{t("payment.captureMethod")}</dt>
          <dd>{t(`payment.captureMethods.${payment.captureMethod}`, { defaultValue: payment.captureMethod })}</dd>
        </div>
        <div>
          <dt>{t("payments.created")}</dt>
          <dd>{when(payment.createdAt)}</dd>
        </div>
        {payment.declineCode && (
          <div>
            <dt>{t("payment.declineCode")}</dt>
            <dd className="dash-cell-mono">{payment.declineCode}</dd>
          </div>
        )}
      </dl>
    </section>
  );
}

function Actions({ payment, onDone }: { payment: Payment; onDone(message: string): void }) {
  const { t, i18n } = useTranslation("dashboard");
  const { api, session } = useDashboard();
  const role = session.user.role;
  const possible = paymentActions(payment);
  const [open, setOpen] = useState<PaymentAction | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const [amountText, setAmountText] = useState("");
  const language = i18n.language as Language;
  if (possible.length === 0) return null;

  const allowed = possible.filter((action) => can(role, action));
  const refund = parseAmount(amountText, payment.currency, payment.amountRefundable);
  const id = encodeURIComponent(payment.id);

  const start = (action: PaymentAction) => {
    setError(undefined);
    setAmountText(amountInput(payment.amountRefundable, payment.currency));
    setOpen(action);
  };
  const confirm = async () => {
    if (open === "refund" && !refund.ok) {
      setError(
        t(`refund.invalid.${refund.reason}`, {
          max: formatAmount(payment.amountRefundable, payment.currency, language),
        }),
      );
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      if (open === "capture") await api.post(`/payments/${id}/capture`, {});
      if (open === "cancel") await api.post(`/payments/${id}/cancel`, {});
      if (open === "refund" && refund.ok) await api.post(`/payments/${id}/refunds`, { amount: refund.amount });
      const action = open;
      setOpen(null);
      onDone(
        action === "refund" && refund.ok
          ? t("refund.done", { amount: formatAmount(refund.amount, payment.currency, language) })
          : t(`actions.${action}Done`),
      );
    } catch (caught) {
      setError(errorText(caught, t));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="dash-card" aria-labelledby="actions-title">
      <h2 id="actions-title" className="dash-section-title">
        {t("actions.title")}
      </h2>
      {allowed.length > 0 ? (
        <div className="dash-button-row">
          {allowed.map((action) => (
            <button
              key={action}
              type="button"
              className={`dash-button ${action === "capture" ? "dash-button-primary" : action === "refund" ? "dash-button-secondary" : "dash-button-danger-outline"}`}
              onClick={() => start(action)}
            >
              {t(`actions.${action}`)}
            </button>
          ))}
        </div>
      ) : (
        <p className="dash-hint" data-testid="actions-not-allowed">
          {t("actions.notAllowed", { role: t(`roles.${role}`) })}
        </p>
      )}
      <ConfirmDialog
        open={open !== null}
        title={open ? t(`actions.${open}Title`) : ""}
        confirmLabel={open ? t(`actions.${open}Confirm`) : ""}
        danger={open === "cancel" || open === "refund"}
        busy={busy}
        error={error}
        onConfirm={() => void confirm()}
        onClose={() => setOpen(null)}
      >
        {open === "capture" && (
          <p>{t("actions.captureBody", { amount: formatAmount(payment.amount, payment.currency, language) })}</p>
        )}
        {open === "cancel" && <p>{t(payment.status === "authorized" ? "actions.voidBody" : "actions.cancelBody")}</p>}
        {open === "refund" && (
          <>
            <p>{t("refund.body", { max: formatAmount(payment.amountRefundable, payment.currency, language) })}</p>
            <label className="dash-field">
              <span className="dash-label">{t("refund.amount", { currency: payment.currency })}</span>
              <input
                className="dash-input"
                name="refundAmount"
                inputMode="decimal"
                autoComplete="off"
                value={amountText}
                onChange={(event) => setAmountText(event.target.value)}
                aria-invalid={!refund.ok}
                aria-describedby="refund-amount-hint"
              />
            </label>
            <p id="refund-amount-hint" className="dash-hint">
              {refund.ok
                ? t("refund.willRefund", { amount: formatAmount(refund.amount, payment.currency, language) })
                : t(`refund.invalid.${refund.reason}`, {
                    max: formatAmount(payment.amountRefundable, payment.currency, language),
                  })}
            </p>
          </>
        )}
      </ConfirmDialog>
    </section>
  );
}

function TimelineList({ timeline, onRetried }: { timeline: Timeline; onRetried(): void }) {
  const { t } = useTranslation("dashboard");
  if (timeline.data.length === 0) return <p className="dash-empty">{t("timeline.none")}</p>;
  return (
    <ol className="dash-timeline">
      {timeline.data.map((entry) => (
        <TimelineItem key={entryKey(entry)} entry={entry} currency={timeline.currency} onRetried={onRetried} />
      ))}
    </ol>
  );
}

function entryKey(entry: TimelineEntry): string {
  switch (entry.type) {
    case "status":
      return `status:${entry.status}:${entry.at}`;
    case "refund":
      return entry.refundId;
    case "event":
      return entry.eventId;
    case "webhook_delivery":
      return entry.deliveryId;
  }
}

function TimelineItem({ entry, currency, onRetried }: { entry: TimelineEntry; currency: string; onRetried(): void }) {
  const { t, i18n } = useTranslation("dashboard");
  const language = i18n.language as Language;
  const when = formatDateTime(entry.at, i18n.language);
  const money = (amount: number) => formatAmount(amount, currency, language);
  let title: string;
  let detail: string | null = null;
  let tone = "";
  switch (entry.type) {
    case "status":
      title = t(`timeline.status.${entry.status}`, { amount: money(entry.amount), defaultValue: entry.status });
      if (entry.declineCode) detail = t("timeline.declineCode", { code: entry.declineCode });
      tone = `dash-dot-${entry.status}`;
      break;
    case "refund":
      title = t("timeline.refund", { amount: money(entry.amount) });
      detail = entry.reason ? t("timeline.reason", { reason: entry.reason }) : null;
      tone = "dash-dot-refund";
      break;
    case "event":
      title = t("timeline.event", { type: entry.eventType });
      tone = "dash-dot-event";
      break;
    case "webhook_delivery":
      title = t(`timeline.delivery.${entry.status}`, { type: entry.eventType });
      detail = [
        entry.lastStatusCode !== null ? t("timeline.answered", { code: entry.lastStatusCode }) : t("timeline.noAnswer"),
        t("timeline.attempts", { count: entry.attempts }),
        entry.lastError && entry.status !== "succeeded" ? entry.lastError : null,
      ]
        .filter(Boolean)
        .join(" · ");
      tone = `dash-dot-delivery-${entry.status}`;
      break;
  }
  return (
    <li className="dash-timeline-item">
      <span className={`dash-dot ${tone}`} aria-hidden="true" />
      <div className="dash-timeline-body">
        <p className="dash-timeline-title">{title}</p>
        {detail && <p className="dash-timeline-detail">{detail}</p>}
        <p className="dash-timeline-time">
          <time dateTime={entry.at}>{when}</time>
        </p>
        {entry.type === "webhook_delivery" && entry.retry && <RetryButton path={entry.retry} onRetried={onRetried} />}
      </div>
    </li>
  );
}

function RetryButton({ path, onRetried }: { path: string; onRetried(): void }) {
  const { t } = useTranslation("dashboard");
  const { api, session } = useDashboard();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  if (!can(session.user.role, "retryDelivery")) return null;
  return (
    <>
      <button
        type="button"
        className="dash-button dash-button-secondary dash-button-small"
        disabled={busy}
        onClick={() => {
          setBusy(true);
          setError(undefined);
          // The link is the API's own (`/v1/webhook-deliveries/{id}/retry`); the client adds /v1 itself.
          api.post(path.replace(/^\/v1/, ""), {}).then(
            () => {
              setBusy(false);
              onRetried();
            },
            (caught: unknown) => {
              setBusy(false);
              setError(errorText(caught, t));
            },
          );
        }}
      >
        {t("timeline.retry")}
      </button>
      <Notice message={error} tone="error" />
    </>
  );
}
