import { CheckoutPage } from "../checkout/CheckoutPage.tsx";
import { DashboardApp } from "../dashboard/DashboardApp.tsx";
import { MessengerApp } from "../messenger/MessengerApp.tsx";
import { WalletApp } from "../wallet/WalletApp.tsx";
import { match, usePath } from "./router.ts";

/** The top-level screens: the hosted checkout, the wallet (inside the messenger), the merchant dashboard and the messenger itself. */
export function App() {
  const path = usePath();
  const checkout = match("/checkout/:paymentId", path);
  if (checkout?.paymentId) return <CheckoutPage paymentId={checkout.paymentId} />;
  if (match("/wallet/*", path) || path === "/wallet") return <WalletApp path={path} />;
  if (match("/dashboard/*", path) || path === "/dashboard") return <DashboardApp path={path} />;
  return <MessengerApp path={path} />;
}
