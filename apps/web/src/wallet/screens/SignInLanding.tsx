/**
 * `/wallet/signin?code=…`: where the pay server sends the payer back after the messenger's login. The code leaves
 * the address bar and history at once (replaceState), is exchanged once with this tab's PKCE verifier for a `pst_`
 * session, and the payer continues where they were going.
 */
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { navigate } from "../../shell/router.ts";
import { errorMessage } from "../errors.ts";
import { signedIn, walletRuntime } from "../runtime.ts";
import { takeSignIn } from "../session.ts";
import { Link, Loading, Notice, Screen } from "../ui.tsx";

/** One exchange per code, even when React runs the effect twice (StrictMode): the code is single-use. */
let exchange: Promise<string> | undefined;

function exchangeOnce(code: string | null, error: string | null): Promise<string> {
  exchange ??= (async () => {
    const pending = takeSignIn();
    if (error !== null || code === null) throw new SignInProblem(error ?? "sign_in_invalid");
    if (pending === undefined) throw new SignInProblem("sign_in_not_started");
    const session = await walletRuntime().api.exchange(code, pending.codeVerifier);
    signedIn({ sessionToken: session.sessionToken, expiresAt: session.expiresAt });
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
    exchangeOnce(query.get("code"), query.get("error")).then(
      (returnTo) => {
        exchange = undefined;
        navigate(returnTo, { replace: true });
      },
      (cause: unknown) => {
        exchange = undefined;
        setError(cause instanceof SignInProblem ? t("signIn.failed") : errorMessage(cause, t));
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
