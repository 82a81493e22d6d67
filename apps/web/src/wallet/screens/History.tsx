/** The payer's receipts, newest first: merchant, item, amount, card, state and refunds. */
import { useState } from "react";
import { useTranslation } from "react-i18next";
import type { Receipt } from "@mpay/wallet";
import { walletRuntime } from "../runtime.ts";
import { formatDate, Loading, Money, Notice, Screen, useLoad } from "../ui.tsx";

export function History({ path }: { path: string }) {
  const { t, i18n } = useTranslation("wallet");
  const [more, setMore] = useState<Receipt[]>([]);
  const [hasMore, setHasMore] = useState<boolean | undefined>();
  const first = useLoad(() => walletRuntime().client.payments.list({ limit: 20 }), "history");
  const receipts = [...(first.data?.data ?? []), ...more];
  const canLoadMore = hasMore ?? first.data?.hasMore ?? false;

  const loadMore = async () => {
    const last = receipts.at(-1);
    if (!last) return;
    const page = await walletRuntime().client.payments.list({ limit: 20, startingAfter: last.id });
    setMore([...more, ...page.data]);
    setHasMore(page.hasMore);
  };

  return (
    <Screen title={t("history.title")} back="/wallet" path={path}>
      {first.loading && !first.data && <Loading />}
      <Notice message={first.error} tone="error" />
      {first.data && receipts.length === 0 && <p className="card empty">{t("history.none")}</p>}
      <ul className="list receipts">
        {receipts.map((receipt) => (
          <li key={receipt.id} className="card receipt">
            <div className="receipt-head">
              <span className="receipt-merchant">{receipt.merchant.name}</span>
              <Money amount={receipt.amount} currency={receipt.currency} className="receipt-amount" />
            </div>
            <p className="receipt-item">{receipt.itemName}</p>
            <p className="muted small">
              {formatDate(receipt.createdAt, i18n.language)}
              {receipt.card && ` · ${receipt.card.issuerName} ••••\u00a0${receipt.card.last4}`}
            </p>
            <p className={`state state-${receipt.status}`}>{t(`history.status.${receipt.status}`)}</p>
            {receipt.refunds.length > 0 && (
              <ul className="refunds" aria-label={t("history.refunds")}>
                {receipt.refunds.map((refund) => (
                  <li key={refund.id}>
                    {t("history.refund", { date: formatDate(refund.createdAt, i18n.language) })}{" "}
                    <Money amount={refund.amount} currency={receipt.currency} />
                  </li>
                ))}
              </ul>
            )}
          </li>
        ))}
      </ul>
      {canLoadMore && (
        <button type="button" className="button button-secondary button-block" onClick={() => void loadMore()}>
          {t("history.more")}
        </button>
      )}
    </Screen>
  );
}
