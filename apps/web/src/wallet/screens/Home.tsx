/** The wallet's first screen: the payer, their cards at a glance, what waits to take effect, and where to go next. */
import { useTranslation } from "react-i18next";
import { walletRuntime } from "../runtime.ts";
import { Link, Loading, Notice, Screen, useLoad } from "../ui.tsx";
import { CardFace } from "./CardFace.tsx";

export function Home({ path }: { path: string }) {
  const { t } = useTranslation("wallet");
  const overview = useLoad(async () => {
    const { wallet } = walletRuntime();
    const [payer, cards, pending, issuers] = await Promise.all([
      wallet.payer(),
      wallet.cards(),
      wallet.pendingChanges(),
      walletRuntime().client.cards.issuers(),
    ]);
    return { payer, cards: cards.filter((card) => card.status === "active"), pending, issuers };
  }, "home");

  return (
    <Screen title={t("home.title")} path={path}>
      {overview.loading && !overview.data && <Loading />}
      <Notice message={overview.error} tone="error" />
      {overview.data && (
        <>
          <p className="lead">{t("home.hello", { name: overview.data.payer.displayName })}</p>
          {overview.data.pending.length > 0 && (
            <section className="card card-warning" aria-labelledby="home-pending">
              <h2 id="home-pending">{t("home.pendingTitle", { count: overview.data.pending.length })}</h2>
              <p>{t("home.pendingText")}</p>
              <Link to="/wallet/pending" className="button button-secondary button-block">
                {t("home.pendingReview")}
              </Link>
            </section>
          )}
          <section aria-labelledby="home-cards">
            <h2 id="home-cards" className="section-title">
              {t("home.cards")}
            </h2>
            {overview.data.cards.length === 0 ? (
              <div className="card empty">
                <p>{t("home.noCards")}</p>
                <Link to="/wallet/cards/new" className="button button-primary button-block">
                  {t("cards.add")}
                </Link>
              </div>
            ) : (
              <ul className="card-stack">
                {overview.data.cards.map((card) => (
                  <li key={card.id}>
                    <CardFace
                      card={card}
                      issuerName={overview.data?.issuers.find((i) => i.issuerId === card.issuerId)?.name}
                    />
                  </li>
                ))}
              </ul>
            )}
          </section>
          <nav className="menu" aria-label={t("home.more")}>
            <Link to="/wallet/cards" className="menu-item">
              {t("nav.cards")}
            </Link>
            <Link to="/wallet/history" className="menu-item">
              {t("nav.history")}
            </Link>
            <Link to="/wallet/devices" className="menu-item">
              {t("nav.devices")}
            </Link>
            <Link to="/wallet/pending" className="menu-item">
              {t("nav.pending")}
            </Link>
            <Link to="/wallet/settings" className="menu-item">
              {t("nav.settings")}
            </Link>
          </nav>
        </>
      )}
    </Screen>
  );
}
