/** The payer's cards: each with its issuer and last four, whether this device can pay with it, and removal. */
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { errorMessage } from "../errors.ts";
import { walletRuntime } from "../runtime.ts";
import { Link, Loading, Notice, Screen, useLoad } from "../ui.tsx";
import { CardFace } from "./CardFace.tsx";

export function Cards({ path, notice }: { path: string; notice?: string | undefined }) {
  const { t } = useTranslation("wallet");
  const [confirming, setConfirming] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ text: string; tone: "success" | "error" } | undefined>(
    notice ? { text: notice, tone: "success" } : undefined,
  );
  const cards = useLoad(async () => {
    const { wallet, client } = walletRuntime();
    const [list, issuers] = await Promise.all([wallet.cards(), client.cards.issuers()]);
    return { list: list.filter((card) => card.status !== "removed"), issuers };
  }, "cards");

  const remove = async (cardId: string, last4: string) => {
    setBusy(true);
    try {
      await walletRuntime().wallet.removeCard(cardId);
      setMessage({ text: t("cards.removed", { last4 }), tone: "success" });
      setConfirming(undefined);
      cards.reload();
    } catch (error) {
      setMessage({ text: errorMessage(error, t), tone: "error" });
    } finally {
      setBusy(false);
    }
  };

  return (
    <Screen title={t("cards.title")} path={path} back="/wallet">
      <Notice message={message?.text} tone={message?.tone ?? "info"} />
      {cards.loading && !cards.data && <Loading />}
      <Notice message={cards.error} tone="error" />
      {cards.data && cards.data.list.length === 0 && <p className="card empty">{t("cards.none")}</p>}
      {cards.data && cards.data.list.length > 0 && (
        <ul className="list">
          {cards.data.list.map((card) => {
            const issuerName = cards.data?.issuers.find((i) => i.issuerId === card.issuerId)?.name ?? card.issuerId;
            return (
              <li key={card.id} className="card card-row">
                <CardFace card={card} issuerName={issuerName} />
                <p className="muted">
                  {card.status === "awaiting_records"
                    ? t("cards.unfinished")
                    : card.onThisDevice
                      ? t("cards.onThisDevice")
                      : t("cards.onOtherDevice")}
                </p>
                {confirming === card.id ? (
                  <div className="confirm" role="group" aria-label={t("cards.removeConfirm", { last4: card.last4 })}>
                    <p>{t("cards.removeConfirm", { last4: card.last4 })}</p>
                    <div className="button-row">
                      <button
                        type="button"
                        className="button button-danger"
                        disabled={busy}
                        onClick={() => void remove(card.id, card.last4)}
                      >
                        {t("cards.removeYes")}
                      </button>
                      <button
                        type="button"
                        className="button button-secondary"
                        onClick={() => setConfirming(undefined)}
                      >
                        {t("cards.removeNo")}
                      </button>
                    </div>
                  </div>
                ) : (
                  <button
                    type="button"
                    className="button button-text"
                    onClick={() => setConfirming(card.id)}
                    aria-label={t("cards.removeLabel", { issuer: issuerName, last4: card.last4 })}
                  >
                    {t("cards.remove")}
                  </button>
                )}
              </li>
            );
          })}
        </ul>
      )}
      <Link to="/wallet/cards/new" className="button button-primary button-block">
        {t("cards.add")}
      </Link>
    </Screen>
  );
}
