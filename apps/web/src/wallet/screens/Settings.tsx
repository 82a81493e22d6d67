/** Settings: change the PIN, add a passkey, this payer's devices and pending changes, sign out. */
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { navigate } from "../../shell/router.ts";
import { createPasskey } from "../passkeys.ts";
import { signedOut, walletRuntime } from "../runtime.ts";
import { Link, Notice, Screen } from "../ui.tsx";
import { PinAsk } from "./PinAsk.tsx";
import { forgetSetup } from "./Setup.tsx";

export function Settings({ path, notice }: { path: string; notice?: string | undefined }) {
  const { t } = useTranslation("wallet");
  const [addingPasskey, setAddingPasskey] = useState(false);
  const [message, setMessage] = useState<{ text: string; tone: "success" | "error" } | undefined>(
    notice ? { text: notice, tone: "success" } : undefined,
  );

  if (addingPasskey)
    return (
      <Screen title={t("settings.passkeyTitle")}>
        <PinAsk
          title={t("settings.passkeyPin")}
          description={t("settings.passkeyHint")}
          run={async (pin) => {
            const { wallet, keyStore } = walletRuntime();
            const ceremony = createPasskey(keyStore);
            await ceremony.remember(await wallet.addPasskey(pin, ceremony.create));
          }}
          onDone={() => {
            setAddingPasskey(false);
            setMessage({ text: t("settings.passkeyAdded"), tone: "success" });
          }}
          onCancel={() => setAddingPasskey(false)}
        />
      </Screen>
    );

  return (
    <Screen title={t("settings.title")} path={path} back="/wallet">
      <Notice message={message?.text} tone={message?.tone ?? "info"} />
      <nav className="menu" aria-label={t("settings.title")}>
        <Link to="/wallet/settings/pin" className="menu-item">
          {t("settings.changePin")}
        </Link>
        <button type="button" className="menu-item" onClick={() => setAddingPasskey(true)}>
          {t("settings.addPasskey")}
        </button>
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
      <p className="muted small">{t("settings.passkeyNote")}</p>
    </Screen>
  );
}
