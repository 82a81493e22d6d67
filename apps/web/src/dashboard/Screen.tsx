/** The frame of every signed-in screen: header (merchant, mode switch and TEST badge, user, sign-out), navigation. */
import { useEffect, type ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { can } from "./model.ts";
import { DashLink, useDashboard } from "./ui.tsx";

const NAV = [
  { to: "/dashboard/overview", key: "nav.overview" },
  { to: "/dashboard/payments", key: "nav.payments" },
  { to: "/dashboard/developers", key: "nav.developers" },
  { to: "/dashboard/team", key: "nav.team" },
] as const;

/**
 * The top of a signed-in page, the dashboard's and the operator console's: the brand and what follows it
 * (`identity`: the merchant, the TEST badge), then the account — `controls` (the mode switch), who is signed in
 * (name and role, at every width) and the way out — then `children` (the navigation). At phone width the account
 * takes a line of its own under the brand, the signed-in name first.
 */
export function SignedInHeader({
  brand,
  identity,
  controls,
  user,
  signOutLabel,
  onSignOut,
  children,
}: {
  brand: string;
  identity?: ReactNode;
  controls?: ReactNode;
  user: { name: string; role: string };
  signOutLabel: string;
  onSignOut(): void;
  children?: ReactNode;
}) {
  return (
    <header className="dash-header">
      <div className="dash-header-row">
        <span className="dash-brand">{brand}</span>
        {identity}
        <span className="dash-header-spacer" />
        <div className="dash-account">
          {controls}
          <span className="dash-user">
            <span className="dash-user-name">{user.name}</span> <span className="dash-role">{user.role}</span>
          </span>
          <button type="button" className="dash-button dash-button-text" onClick={onSignOut}>
            {signOutLabel}
          </button>
        </div>
      </div>
      {children}
    </header>
  );
}

/** Every signed-in screen: the header (merchant, mode switch, user, sign-out), the navigation, the title. */
export function DashboardScreen({ title, path, children }: { title: string; path: string; children: ReactNode }) {
  const { t } = useTranslation("dashboard");
  const { session, mode, setMode, signOut } = useDashboard();
  useEffect(() => {
    document.title = `${title} · ${t("brand")}`;
  }, [title, t]);
  const test = mode === "test";
  const nav = NAV.filter((item) => item.to !== "/dashboard/team" || can(session.user.role, "manageTeam"));
  return (
    <div className={`dash${test ? " dash-test" : ""}`}>
      <SignedInHeader
        brand={t("brand")}
        identity={
          <>
            <span className="dash-merchant">{session.user.merchantName}</span>
            {test && (
              <span className="dash-test-badge" aria-hidden="true">
                {t("testBadge")}
              </span>
            )}
          </>
        }
        controls={
          <label className="dash-mode">
            <input
              type="checkbox"
              role="switch"
              checked={test}
              onChange={(event) => setMode(event.target.checked ? "test" : "live")}
            />
            <span>{t("testMode")}</span>
          </label>
        }
        user={{ name: session.user.name, role: t(`roles.${session.user.role}`) }}
        signOutLabel={t("signOut")}
        onSignOut={signOut}
      >
        <nav className="dash-nav" aria-label={t("nav.label")}>
          {nav.map((item) => (
            <DashLink
              key={item.to}
              to={item.to}
              className="dash-nav-link"
              {...(path.startsWith(item.to) ? { "aria-current": "page" as const } : {})}
            >
              {t(item.key)}
            </DashLink>
          ))}
        </nav>
      </SignedInHeader>
      {test && <p className="dash-test-banner">{t("testBanner")}</p>}
      <main className="dash-main">
        <h1 className="dash-title">{title}</h1>
        {children}
      </main>
    </div>
  );
}
