/** A card as the payer recognises it: issuer, brand, the last four digits; never more of the number. */
import type { Card } from "@mpay/wallet";
import { useTranslation } from "react-i18next";

const BRAND: Record<Card["brand"], string> = { visa: "VISA", mastercard: "Mastercard", amex: "AMEX", local: "Local" };

export function CardFace({
  card,
  issuerName,
}: {
  card: Pick<Card, "brand" | "last4" | "issuerId" | "expiryMonth"> & { onThisDevice?: boolean };
  issuerName: string | undefined;
}) {
  const { t } = useTranslation("wallet");
  const [year, month] = card.expiryMonth.split("-");
  return (
    <div
      className={`card-face card-face-${card.issuerId.replace(/[^a-z0-9]/g, "")}`}
      role="img"
      aria-label={t("cards.faceLabel", {
        issuer: issuerName ?? card.issuerId,
        brand: BRAND[card.brand],
        last4: card.last4,
      })}
    >
      <span className="card-face-issuer">{issuerName ?? card.issuerId}</span>
      <span className="card-face-number">••••&nbsp;{card.last4}</span>
      <span className="card-face-meta">
        <span>{BRAND[card.brand]}</span>
        {month && year && <span>{`${month}/${year.slice(2)}`}</span>}
      </span>
    </div>
  );
}
