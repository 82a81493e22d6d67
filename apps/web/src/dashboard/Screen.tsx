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
      <header className="dash-header">
        <div className="dash-header-row">
          <span className="dash-brand">{t("brand")}</span>
          <span className="dash-merchant">{session.user.merchantName}</span>
          {test && (
            <span className="dash-test-badge" aria-hidden="true">
              {t("testBadge")}
            </span>
          )}
          <span className="dash-header-spacer" />
          <label className="dash-mode">
            <input
              type="checkbox"
              role="switch"
              checked={test}
              onChange={(event) => setMode(event.target.checked ? "test" : "live")}
            />
            <span>{t("testMode")}</span>
          </label>
          <span className="dash-user">
            <span className="dash-user-name">{session.user.name}</span>{" "}
            <span className="dash-role">{t(`roles.${session.user.role}`)}</span>
          </span>
          <button type="button" className="dash-button dash-button-text" onClick={signOut}>
            {t("signOut")}
          </button>
        </div>
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
      </header>
      {test && <p className="dash-test-banner">{t("testBanner")}</p>}
      <main className="dash-main">
        <h1 className="dash-title">{title}</h1>
        {children}
      </main>
    </div>
  );
}
