/** What is being paid: the merchant's registered name, the item (shown as text), the amount, the pairing code. */
import { useTranslation } from "react-i18next";
import type { PayerPayment } from "@mpay/wallet";
import { Money } from "../ui.tsx";

export function PaymentSummary({ payment }: { payment: PayerPayment }) {
  const { t } = useTranslation("wallet");
  return (
    <section className="card summary" aria-label={t("pay.summary")}>
      <p className="summary-merchant">{payment.merchant.name}</p>
      <p className="summary-item">{payment.itemName}</p>
      <p className="summary-amount">
        <Money amount={payment.amount} currency={payment.currency} />
      </p>
      <p className="summary-code">
        {t("pay.pairingCode")} <strong className="pairing-code">{payment.pairingCode}</strong>
      </p>
      <p className="muted small">{t("pay.pairingHint")}</p>
    </section>
  );
}
