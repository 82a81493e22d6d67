/**
 * The messenger's own test harness (services/messenger/src/testing/), for other packages' tests: a messenger in this
 * process over a free port, its accounts, and a cookie-keeping "browser" for the sign-in forms. The messenger's tests
 * use the harness directly; the wallet's and the pay server's go through here, so that they import no other
 * service's source (issue 8). `signInWallet` walks a whole payer sign-in: messenger form, the pay server's
 * redirect to the wallet's landing page, and the wallet's code exchange (issue 9).
 */
import type { PayerSession, Wallet } from "@mpay/wallet";
import {
  Browser as SignInBrowser,
  readForm as readSignInForm,
} from "../../../services/messenger/src/testing/browser.ts";

export {
  Browser,
  readForm,
  type BrowserResponse,
  type HtmlForm,
} from "../../../services/messenger/src/testing/browser.ts";
export {
  openTestMessenger,
  PAY_REDIRECT,
  type TestMessenger,
  type TestMessengerOptions,
} from "../../../services/messenger/src/testing/messenger.ts";
export { createAccount, type TestAccount } from "../../../services/messenger/src/testing/rp.ts";

/**
 * What the payer's browser does after the messenger's redirect: it visits the pay server's callback (at
 * `payBaseUrl`, which may differ from the redirect URI's host when the messenger registered another port), which
 * answers a 303 to the wallet's landing page (`<web>/wallet/signin?code=plc_…` or `?error=…`). Answers that URL.
 */
export async function walletLanding(payBaseUrl: string, callback: URL): Promise<URL> {
  const response = await fetch(`${payBaseUrl.replace(/\/$/, "")}/v1/payer/auth/callback${callback.search}`, {
    redirect: "manual",
  });
  await response.body?.cancel();
  const location = response.headers.get("location");
  if (response.status !== 303 || !location)
    throw new Error(`the pay server's sign-in callback answered HTTP ${response.status}, not a 303 to the wallet`);
  return new URL(location);
}

/**
 * A whole sign-in as the payer does it: the wallet starts (its PKCE pair), the payer logs in on the messenger's real
 * form, the browser comes back through the pay server's callback to the wallet's landing page, and the wallet
 * exchanges the code with its verifier. `payBaseUrl` is where the pay server listens.
 */
export async function signInWallet(
  wallet: Wallet,
  account: { phoneNumber: string; password: string },
  payBaseUrl: string,
  browser: SignInBrowser = new SignInBrowser(),
): Promise<PayerSession> {
  const start = await wallet.startSignIn();
  const redirectUri = new URL(start.authorizationUrl).searchParams.get("redirect_uri");
  if (!redirectUri) throw new Error("the sign-in link names no redirect_uri");
  const opened = await browser.open(start.authorizationUrl, redirectUri);
  if (!opened.page) throw new Error("the messenger showed no login page");
  const submitted = await browser.submit(
    opened.page,
    readSignInForm(opened.page.body, /\/login$/),
    { phone: account.phoneNumber, password: account.password },
    redirectUri,
  );
  if (!submitted.callback) throw new Error(`sign-in failed: ${submitted.page?.body.slice(0, 200)}`);
  return wallet.finishSignIn(await walletLanding(payBaseUrl, submitted.callback), start.codeVerifier);
}
