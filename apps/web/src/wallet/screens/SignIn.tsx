/**
 * Sign-in to MPay with the messenger account: the SDK makes a PKCE pair (the verifier stays in this tab's
 * sessionStorage) and asks the pay server for the messenger's authorization URL; off to its login page. It comes back on `/wallet/signin`.
 */
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { appConfig } from "../../shell/config.ts";
import { errorMessage } from "../errors.ts";
import { walletRuntime } from "../runtime.ts";
import { rememberSignIn } from "../session.ts";
import { Notice, Screen } from "../ui.tsx";

export function SignIn({ returnTo, problem }: { returnTo: string; problem?: string | undefined }) {
  const { t } = useTranslation("wallet");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(problem);

  const start = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const { authorizationUrl, codeVerifier } = await walletRuntime().wallet.startSignIn();
      // Only the messenger's own login page: an answer pointing anywhere else is not followed.
      const target = new URL(authorizationUrl);
      if (target.origin !== new URL(appConfig().messengerUrl).origin)
        throw new Error("sign-in link is not the messenger's");
      rememberSignIn({ codeVerifier, returnTo });
      location.assign(target.href);
    } catch (cause) {
      setBusy(false);
      setError(errorMessage(cause, t));
    }
  };

  return (
    <Screen title={t("signIn.title")}>
      <section className="card hero">
        <p className="hero-lead">{t("signIn.lead")}</p>
        <p className="muted">{t("signIn.noPassword")}</p>
        <button type="button" className="button button-primary button-block" onClick={start} disabled={busy}>
          {busy ? t("signIn.opening") : t("signIn.button")}
        </button>
        <Notice message={error} tone="error" />
      </section>
    </Screen>
  );
}
