/**
 * The hosted checkout (DESIGN.md "Payments", step 2): the merchant sends the payer here with `checkoutUrl`. It shows
 * what is being paid and the pairing code; on a phone it opens the wallet in the messenger, on a desktop it shows a
 * QR code for the phone and offers a push to the payer's messenger. It follows the payment until it is final, shows
 * the result, then returns to the merchant.
 */
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { formatTime } from "../shell/format.ts";
import { formatAmount, type Language } from "../shell/i18n.ts";
import { appConfig } from "../shell/config.ts";
import { PHONE_QUERY, useMediaQuery } from "../shell/media.ts";
import { CheckoutApiError, getCheckout, type Checkout } from "./api.ts";
import { followCheckout, phaseOf, safeRedirect } from "./model.ts";
import { PushForm } from "./PushForm.tsx";
import { QrCode } from "./QrCode.tsx";
import { CheckoutResult } from "./CheckoutResult.tsx";
import "./texts.ts";
import "./checkout.css";

export function CheckoutPage({ paymentId }: { paymentId: string }) {
  const { t } = useTranslation("checkout");
  const { payUrl } = appConfig();
  const [checkout, setCheckout] = useState<Checkout | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);

  useEffect(() => {
    const follow = new AbortController();
    void followCheckout({
      load: () => getCheckout(payUrl, paymentId),
      onCheckout: (next) => {
        setCheckout(next);
        setLoadError(null);
      },
      onError: setLoadError,
      signal: follow.signal,
    });
    return () => follow.abort();
  }, [payUrl, paymentId]);

  useEffect(() => {
    document.title = checkout ? t("pageTitle", { merchant: checkout.merchant.name }) : "MPay";
  }, [checkout, t]);

  const notFound = loadError instanceof CheckoutApiError && loadError.status === 404;
  return (
    <main className="checkout">
      <div className="checkout-card">
        <p className="checkout-brand" aria-hidden="true">
          {t("brand")}
        </p>
        {notFound ? (
          <p className="co-notice co-notice-error" role="alert">
            {t("notFound")}
          </p>
        ) : checkout ? (
          <CheckoutBody checkout={checkout} />
        ) : (
          <p className="checkout-loading" role="status">
            {loadError ? t("loadFailed") : t("loading")}
          </p>
        )}
        {checkout && loadError !== null && !notFound && (
          <p className="co-notice co-notice-error" role="alert">
            {t("loadFailed")}
          </p>
        )}
      </div>
    </main>
  );
}

function CheckoutBody({ checkout }: { checkout: Checkout }) {
  const { t } = useTranslation("checkout");
  const phase = phaseOf(checkout.status);
  const merchant = checkout.merchant.name;
  const redirect = safeRedirect(checkout.redirectUrl);
  const back = redirect ? t("returning", { merchant }) : t("closeHint");
  return (
    <>
      <PaymentSummary checkout={checkout} />
      {phase === "waiting" ? <Approval checkout={checkout} /> : <CheckoutResult checkout={checkout} />}
      {/* One live region for the whole follow, present from the first answer on, so the change is announced. */}
      <p className={`checkout-status checkout-status-${phase}`} role="status">
        {phase === "waiting" && <span className="co-pulse" aria-hidden="true" />}
        {phase === "waiting" ? t("waiting") : phase === "failed" ? `${t(checkout.status)} ${back}` : back}
      </p>
      {phase !== "waiting" && redirect && (
        <a className="co-button co-button-secondary" href={redirect}>
          {t("returnNow", { merchant })}
        </a>
      )}
    </>
  );
}

function PaymentSummary({ checkout }: { checkout: Checkout }) {
  const { t, i18n } = useTranslation("checkout");
  const language = i18n.language as Language;
  const validUntil = formatTime(checkout.expiresAt, language);
  return (
    <section className="co-summary" aria-labelledby="checkout-merchant">
      <p className="co-summary-label">{t("merchantLabel")}</p>
      <h1 id="checkout-merchant" className="co-summary-merchant">
        {checkout.merchant.name}
      </h1>
      <p className="co-summary-item">{checkout.itemName}</p>
      <p className="co-summary-amount">
        <span className="co-visually-hidden">{t("amountLabel")} </span>
        {formatAmount(checkout.amount, checkout.currency, language)}
      </p>
      {phaseOf(checkout.status) === "waiting" && (
        <>
          <p className="co-pairing">
            <span className="co-pairing-label">{t("pairingCode")}</span>{" "}
            <span className="co-pairing-code">{checkout.pairingCode}</span>
          </p>
          <p className="co-summary-hint">
            {t("pairingHint")} {t("validUntil", { time: validUntil })}
          </p>
        </>
      )}
    </section>
  );
}

/** While the payment waits: the way to the phone that fits this screen, and the live status. */
function Approval({ checkout }: { checkout: Checkout }) {
  const { t } = useTranslation("checkout");
  const { payUrl, webUrl } = appConfig();
  const phone = useMediaQuery(PHONE_QUERY);
  const openPath = `/open/pay/${encodeURIComponent(checkout.paymentId)}`;
  return (
    <>
      {phone ? (
        <section className="co-approval">
          <a className="co-button co-button-messenger" href={openPath}>
            {t("payInMessenger")}
          </a>
          <p className="co-field-hint co-center">{t("phoneHint")}</p>
        </section>
      ) : (
        <section className="co-approval">
          <h2 className="co-section-title">{t("scanTitle")}</h2>
          <div className="co-qr-frame">
            <QrCode text={`${webUrl}${openPath}`} alt={t("qrAlt")} size={192} />
          </div>
          <p className="co-field-hint co-center">{t("scanHint")}</p>
          <p className="co-divider">
            <span>{t("or")}</span>
          </p>
          <PushForm payUrl={payUrl} paymentId={checkout.paymentId} />
        </section>
      )}
    </>
  );
}
