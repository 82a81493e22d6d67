/**
 * The card's details as the payer types them, for every screen that sends them encrypted to the issuer (adding a
 * card, resetting the PIN with the card): one set of fields, so both format and autofill alike.
 */
import { useId } from "react";
import { useTranslation } from "react-i18next";

export interface CardDetailsInput {
  number: string;
  expiry: string;
  cvc: string;
  /** Only where the screen asks for it (adding a card). */
  name?: string;
}

export const EMPTY_CARD_DETAILS = { number: "", expiry: "", cvc: "" } as const;

/** `4111 1111 1111 1111` as the payer types it: groups of four, digits only. */
export function groupedNumber(value: string): string {
  return value
    .replace(/\D/g, "")
    .slice(0, 19)
    .replace(/(\d{4})(?=\d)/g, "$1 ");
}

/** `12/31` from whatever the payer types (`1231`, `12 / 31`). */
export function typedExpiry(value: string): string {
  const digits = value.replace(/\D/g, "").slice(0, 4);
  return digits.length > 2 ? `${digits.slice(0, 2)}/${digits.slice(2)}` : digits;
}

/** The card number without the spaces the field shows. */
export const panOf = (details: CardDetailsInput) => details.number.replace(/\s/g, "");

export function CardFields<T extends CardDetailsInput>({
  details,
  onChange,
}: {
  details: T;
  onChange: (next: T) => void;
}) {
  const { t } = useTranslation("wallet");
  const ids = { number: useId(), expiry: useId(), cvc: useId(), name: useId() };
  return (
    <>
      <label htmlFor={ids.number}>{t("addCard.number")}</label>
      <input
        id={ids.number}
        className="input"
        inputMode="numeric"
        autoComplete="cc-number"
        value={details.number}
        onChange={(event) => onChange({ ...details, number: groupedNumber(event.target.value) })}
        required
      />
      <div className="form-row">
        <div>
          <label htmlFor={ids.expiry}>{t("addCard.expiry")}</label>
          <input
            id={ids.expiry}
            className="input"
            inputMode="numeric"
            autoComplete="cc-exp"
            placeholder={t("addCard.expiryPlaceholder")}
            value={details.expiry}
            onChange={(event) => onChange({ ...details, expiry: typedExpiry(event.target.value) })}
            required
          />
        </div>
        <div>
          <label htmlFor={ids.cvc}>{t("addCard.cvc")}</label>
          <input
            id={ids.cvc}
            className="input"
            inputMode="numeric"
            autoComplete="cc-csc"
            type="password"
            maxLength={4}
            value={details.cvc}
            onChange={(event) => onChange({ ...details, cvc: event.target.value.replace(/\D/g, "") })}
            required
          />
        </div>
      </div>
      {details.name !== undefined && (
        <>
          <label htmlFor={ids.name}>{t("addCard.name")}</label>
          <input
            id={ids.name}
            className="input"
            autoComplete="cc-name"
            value={details.name}
            onChange={(event) => onChange({ ...details, name: event.target.value })}
          />
        </>
      )}
    </>
  );
}
