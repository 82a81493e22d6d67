/** What a payer with a locked PIN can do: reset it with the card through its issuer (then the waiting period). */
import { useTranslation } from "react-i18next";
import { Link } from "../ui.tsx";

export function PinLocked() {
  const { t } = useTranslation("wallet");
  return (
    <section className="card card-warning" aria-labelledby="pin-locked-title">
      <div role="alert">
        <h2 id="pin-locked-title">{t("locked.title")}</h2>
        <p>{t("locked.text")}</p>
      </div>
      <ol className="steps">
        <li>{t("locked.step1")}</li>
        <li>{t("locked.step2")}</li>
        <li>{t("locked.step3")}</li>
      </ol>
      <Link to="/wallet/settings/reset-pin" className="button button-primary button-block">
        {t("locked.reset")}
      </Link>
      <Link to="/wallet" className="button button-text button-block">
        {t("pay.toWallet")}
      </Link>
    </section>
  );
}
