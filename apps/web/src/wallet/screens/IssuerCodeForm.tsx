/**
 * The issuer's one-time code, sent to the phone on file after the card's details reached it: the last step of adding
 * a card and of resetting the PIN with the card.
 */
import { useId, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { Notice, unbroken } from "../ui.tsx";

export function IssuerCodeForm(props: {
  issuerName: string;
  codeSentTo: string;
  busy: boolean;
  error: string | undefined;
  onSubmit: (code: string) => void;
}) {
  const { t } = useTranslation("wallet");
  const ids = { code: useId(), hint: useId() };
  const [code, setCode] = useState("");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    props.onSubmit(code.trim());
  };
  return (
    <form className="card form" onSubmit={submit} noValidate>
      <p id={ids.hint}>{t("addCard.codeSent", { issuer: props.issuerName, phone: unbroken(props.codeSentTo) })}</p>
      <label htmlFor={ids.code}>{t("addCard.code")}</label>
      <input
        id={ids.code}
        name="one-time-code"
        className="input input-code"
        inputMode="numeric"
        autoComplete="one-time-code"
        pattern="[0-9]*"
        maxLength={8}
        aria-describedby={ids.hint}
        value={code}
        onChange={(event) => setCode(event.target.value.replace(/\D/g, ""))}
        required
      />
      <Notice message={props.error} tone="error" />
      <button type="submit" className="button button-primary button-block" disabled={props.busy || code.length < 4}>
        {props.busy ? t("addCard.verifying") : t("addCard.verify")}
      </button>
    </form>
  );
}
