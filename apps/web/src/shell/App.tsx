import { CheckoutPage } from "../checkout/CheckoutPage.tsx";
import { ConsoleApp } from "../console/ConsoleApp.tsx";
import { DashboardApp } from "../dashboard/DashboardApp.tsx";
import { MessengerApp } from "../messenger/MessengerApp.tsx";
import { WalletApp } from "../wallet/WalletApp.tsx";
import { match, usePath } from "./router.ts";

/** The top-level screens: the hosted checkout, the wallet (inside the messenger), the merchant dashboard, the operator console and the messenger itself. */
export function App() {
  const path = usePath();
  const checkout = match("/checkout/:paymentId", path);
  if (checkout?.paymentId) return <CheckoutPage paymentId={checkout.paymentId} />;
  if (match("/wallet/*", path) || path === "/wallet") return <WalletApp path={path} />;
  if (match("/dashboard/*", path) || path === "/dashboard") return <DashboardApp path={path} />;
  if (match("/console/*", path) || path === "/console") return <ConsoleApp />;
  return <MessengerApp path={path} />;
}
