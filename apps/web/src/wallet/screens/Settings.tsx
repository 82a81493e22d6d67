/** Settings: change the PIN, passkeys, this payer's devices and pending changes, sign out. */
import { useTranslation } from "react-i18next";
import { navigate } from "../../shell/router.ts";
import { signedOut } from "../runtime.ts";
import { Link, Notice, Screen } from "../ui.tsx";
import { forgetSetup } from "./Setup.tsx";

export function Settings({ path, notice }: { path: string; notice?: string | undefined }) {
  const { t } = useTranslation("wallet");
  return (
    <Screen title={t("settings.title")} path={path} back="/wallet">
      <Notice message={notice} tone="success" />
      <nav className="menu" aria-label={t("settings.title")}>
        <Link to="/wallet/settings/pin" className="menu-item">
          {t("settings.changePin")}
        </Link>
        <Link to="/wallet/settings/passkeys" className="menu-item">
          {t("settings.passkeys")}
        </Link>
        <Link to="/wallet/settings/reset-pin" className="menu-item">
          {t("settings.resetPin")}
        </Link>
        <Link to="/wallet/devices" className="menu-item">
          {t("nav.devices")}
        </Link>
        <Link to="/wallet/pending" className="menu-item">
          {t("nav.pending")}
        </Link>
      </nav>
      <button
        type="button"
        className="button button-secondary button-block"
        onClick={() => {
          forgetSetup();
          signedOut();
          navigate("/wallet", { replace: true });
        }}
      >
        {t("settings.signOut")}
      </button>
    </Screen>
  );
}
