import { useId, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { pushToPhone, type CheckoutPush } from "./api.ts";
import { internationalPhoneNumber, pushFailure, type Message } from "./model.ts";

type PushState =
  | { step: "idle" }
  | { step: "sending" }
  | { step: "sent"; push: CheckoutPush }
  | { step: "failed"; message: Message; field: boolean };

/**
 * "Get the request in your messenger": the payer's number, to which MPay's official account sends the payment
 * request. The pay server answers the same whether or not the number has an account (no enumeration), so the page
 * says "sent to" and never "this number has MPay".
 */
export function PushForm({ payUrl, paymentId }: { payUrl: string; paymentId: string }) {
  const { t, i18n } = useTranslation("checkout");
  const [phoneNumber, setPhoneNumber] = useState("");
  const [state, setState] = useState<PushState>({ step: "idle" });
  const id = useId();
  const fieldInvalid = state.step === "failed" && state.field;

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (state.step === "sending") return;
    setState({ step: "sending" });
    try {
      setState({ step: "sent", push: await pushToPhone(payUrl, paymentId, internationalPhoneNumber(phoneNumber)) });
    } catch (error) {
      const message = pushFailure(error, i18n.language);
      setState({ step: "failed", message, field: message.key === "phoneInvalid" });
    }
  }

  return (
    <form className="co-push-form" onSubmit={(event) => void submit(event)} noValidate>
      <h2 className="co-section-title">{t("pushTitle")}</h2>
      <label className="co-field-label" htmlFor={`${id}-phone`}>
        {t("phoneLabel")}
      </label>
      <div className="co-push-row">
        <input
          id={`${id}-phone`}
          className="co-text-field"
          type="tel"
          name="phoneNumber"
          inputMode="tel"
          autoComplete="tel"
          placeholder="010-1234-5678"
          required
          value={phoneNumber}
          onChange={(event) => setPhoneNumber(event.target.value)}
          aria-invalid={fieldInvalid}
          aria-describedby={`${id}-hint${fieldInvalid ? ` ${id}-error` : ""}`}
        />
        <button
          className="co-button co-button-primary"
          type="submit"
          disabled={state.step === "sending" || !phoneNumber.trim()}
        >
          {state.step === "sending" ? t("sending") : t("send")}
        </button>
      </div>
      <p id={`${id}-hint`} className="co-field-hint">
        {t("phoneExample")}
      </p>
      <div aria-live="polite" role="status" className="co-push-result">
        {state.step === "sent" && (
          <p className="co-notice co-notice-success">
            {t("sent", { phone: state.push.phoneNumber, code: state.push.pairingCode })}
          </p>
        )}
      </div>
      {state.step === "failed" && (
        <p id={`${id}-error`} className="co-notice co-notice-error" role="alert">
          {t(state.message.key, state.message.values ?? {})}
        </p>
      )}
    </form>
  );
}
