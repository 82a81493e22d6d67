/**
 * The messenger's own test harness (services/messenger/src/testing/), for other packages' tests: a messenger in this
 * process over a free port, its accounts, and a cookie-keeping "browser" for the sign-in forms. The messenger's tests
 * use the harness directly; the wallet's and the pay server's go through here, so that they import no other
 * service's source (issue 8).
 */
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
