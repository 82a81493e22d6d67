/**
 * The MPay wallet inside the messenger (`/wallet/...`, web contract "SPA paths"): sign-in with the messenger account,
 * this device bound and the PIN set (Setup), then the screens. Everything payment-related goes through the wallet SDK
 * (@mpay/wallet): keys in IndexedDB, the PIN over OPAQUE, cards sealed on this device.
 */
import { useTranslation } from "react-i18next";
import { match } from "../shell/router.ts";
import { useSignedIn } from "./runtime.ts";
import { AddCard } from "./screens/AddCard.tsx";
import { Cards } from "./screens/Cards.tsx";
import { ChangePin } from "./screens/ChangePin.tsx";
import { Devices } from "./screens/Devices.tsx";
import { History } from "./screens/History.tsx";
import { Home } from "./screens/Home.tsx";
import { Passkeys } from "./screens/Passkeys.tsx";
import { PaySheet } from "./screens/PaySheet.tsx";
import { Pending } from "./screens/Pending.tsx";
import { ResetPin } from "./screens/ResetPin.tsx";
import { Settings } from "./screens/Settings.tsx";
import { Setup } from "./screens/Setup.tsx";
import { SignIn } from "./screens/SignIn.tsx";
import { SignInLanding } from "./screens/SignInLanding.tsx";
import "./texts.ts";
import "./wallet.css";
import { Link, Screen } from "./ui.tsx";

export function WalletApp({ path }: { path: string }) {
  const signedIn = useSignedIn();
  if (path === "/wallet/signin") return <SignInLanding />;
  if (!signedIn) return <SignIn returnTo={path} />;
  return (
    <Setup>
      <WalletScreen path={path} />
    </Setup>
  );
}

function WalletScreen({ path }: { path: string }) {
  const { t } = useTranslation("wallet");
  const query = new URLSearchParams(location.search);
  const pay = match("/wallet/pay/:paymentId", path);
  if (pay?.paymentId) return <PaySheet key={pay.paymentId} paymentId={pay.paymentId} />;
  switch (path.replace(/\/+$/, "") || "/wallet") {
    case "/wallet":
      return <Home path="/wallet" />;
    case "/wallet/cards": {
      const added = query.get("added");
      return (
        <Cards
          path="/wallet/cards"
          notice={added && /^\d{4}$/.test(added) ? t("cards.added", { last4: added }) : undefined}
        />
      );
    }
    case "/wallet/cards/new":
      return <AddCard />;
    case "/wallet/devices":
      return <Devices path="/wallet/devices" />;
    case "/wallet/pending":
      return <Pending path="/wallet/pending" />;
    case "/wallet/history":
      return <History path="/wallet/history" />;
    case "/wallet/settings":
      return (
        <Settings path="/wallet/settings" notice={query.get("changed") === "pin" ? t("changePin.done") : undefined} />
      );
    case "/wallet/settings/pin":
      return <ChangePin />;
    case "/wallet/settings/passkeys":
      return <Passkeys />;
    case "/wallet/settings/reset-pin":
      return <ResetPin />;
    default:
      return (
        <Screen title={t("notFound.title")} back="/wallet">
          <p>{t("notFound.text")}</p>
          <Link to="/wallet" className="button button-primary button-block">
            {t("pay.toWallet")}
          </Link>
        </Screen>
      );
  }
}
