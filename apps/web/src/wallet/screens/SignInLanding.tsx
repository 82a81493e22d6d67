/**
 * `/wallet/signin?code=…`: where the pay server sends the payer back after the messenger's login. The code leaves
 * the address bar and history at once (replaceState), is exchanged once with this tab's PKCE verifier for a `pst_`
 * session, and the payer continues where they were going.
 */
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { navigate } from "../../shell/router.ts";
import { errorCode, errorMessage } from "../errors.ts";
import { signedIn, walletRuntime } from "../runtime.ts";
import { takeSignIn } from "../session.ts";
import { Link, Loading, Notice, Screen } from "../ui.tsx";

/** One exchange per code, even when React runs the effect twice (StrictMode): the code is single-use. */
let exchange: Promise<string> | undefined;

function exchangeOnce(landing: URLSearchParams): Promise<string> {
  exchange ??= (async () => {
    const pending = takeSignIn();
    if (pending === undefined) throw new SignInProblem("sign_in_not_started");
    const session = await walletRuntime().wallet.finishSignIn(landing, pending.codeVerifier);
    signedIn({ sessionToken: session.sessionToken.peek(), expiresAt: session.expiresAt });
    return pending.returnTo;
  })();
  return exchange;
}

class SignInProblem extends Error {
  readonly code: string;
  constructor(code: string) {
    super(code);
    this.code = code;
  }
}

export function SignInLanding() {
  const { t } = useTranslation("wallet");
  const [error, setError] = useState<string | undefined>();

  useEffect(() => {
    const query = new URLSearchParams(location.search);
    // The code must not stay in the address bar, in history, or in a Referer.
    if (location.search !== "") history.replaceState(null, "", "/wallet/signin");
    exchangeOnce(query).then(
      (returnTo) => {
        exchange = undefined;
        navigate(returnTo, { replace: true });
      },
      (cause: unknown) => {
        exchange = undefined;
        const code = errorCode(cause);
        setError(
          cause instanceof SignInProblem || code === "sign_in_invalid" || code === "access_denied"
            ? t("signIn.failed")
            : errorMessage(cause, t),
        );
      },
    );
  }, [t]);

  return (
    <Screen title={t("signIn.title")}>
      {error === undefined ? (
        <Loading />
      ) : (
        <section className="card">
          <Notice message={error} tone="error" />
          <Link to="/wallet" className="button button-primary button-block">
            {t("signIn.again")}
          </Link>
        </section>
      )}
    </Screen>
  );
}
