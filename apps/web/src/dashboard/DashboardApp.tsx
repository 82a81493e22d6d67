/**
 * The merchant dashboard (issue 10, deliverable 3) at /dashboard: sign-in for a merchant's users, then payments,
 * a payment's page, developers (API keys, webhook endpoints), daily totals, and the owner's team. Every screen reads
 * and acts through the pay server's merchant API with the user's session, in the mode the header's switch chose.
 */
import { useCallback, useEffect, useMemo, useState } from "react";
import { appConfig } from "../shell/config.ts";
import { match, navigate } from "../shell/router.ts";
import { MerchantApi, type DashboardSession } from "./api.ts";
import { can, type Mode } from "./model.ts";
import { Developers } from "./Developers.tsx";
import { Overview } from "./Overview.tsx";
import { PaymentDetail } from "./PaymentDetail.tsx";
import { Payments } from "./Payments.tsx";
import { forgetSession, loadMode, loadSession, saveMode, saveSession } from "./session.ts";
import { SignIn } from "./SignIn.tsx";
import { Team } from "./Team.tsx";
import { DashboardContext, useDashboard, type Dashboard } from "./ui.tsx";
import "./texts.ts";
import "./dashboard.css";

export function DashboardApp({ path }: { path: string }) {
  const { payUrl } = appConfig();
  const [session, setSession] = useState<DashboardSession | undefined>(() => loadSession());
  const [mode, setModeState] = useState<Mode>(() => loadMode());

  // Sign-out ends the session on the pay server too (a copied token stops working), then forgets it here; after a
  // 401 the server has already ended it and the call fails quietly.
  const signOut = useCallback(() => {
    if (session) void new MerchantApi(payUrl, session.token, mode).post("/dashboard/sign-out").catch(() => undefined);
    forgetSession();
    setSession(undefined);
  }, [session, payUrl, mode]);
  const setMode = useCallback((next: Mode) => {
    saveMode(next);
    setModeState(next);
  }, []);
  const dashboard = useMemo<Dashboard | null>(
    () => (session ? { session, mode, api: new MerchantApi(payUrl, session.token, mode), setMode, signOut } : null),
    [session, mode, payUrl, setMode, signOut],
  );

  if (!dashboard)
    return (
      <SignIn
        payUrl={payUrl}
        onSignedIn={(signedIn) => {
          saveSession(signedIn);
          setSession(signedIn);
          if (path === "/dashboard" || path === "/dashboard/") navigate("/dashboard/payments", { replace: true });
        }}
      />
    );
  return (
    <DashboardContext.Provider value={dashboard}>
      <Routes path={path} />
    </DashboardContext.Provider>
  );
}

function Routes({ path }: { path: string }) {
  const { session } = useDashboard();
  useEffect(() => {
    if (path === "/dashboard" || path === "/dashboard/") navigate("/dashboard/payments", { replace: true });
  }, [path]);
  const payment = match("/dashboard/payments/:id", path);
  if (payment?.id) return <PaymentDetail key={payment.id} paymentId={payment.id} path={path} />;
  if (path === "/dashboard/overview") return <Overview path={path} />;
  if (path === "/dashboard/developers") return <Developers path={path} />;
  if (path === "/dashboard/team" && can(session.user.role, "manageTeam")) return <Team path={path} />;
  return <Payments path="/dashboard/payments" />;
}
