/**
 * Resetting a forgotten or locked PIN with the card (DESIGN.md's power order): the card's details go encrypted to its
 * issuer, which sends a code to the phone on file; the new PIN takes effect after the waiting period, announced in
 * the messenger, unless someone who knows the current PIN cancels it.
 */
import type { PendingPinReset, PinReset } from "@mpay/wallet";
import { useId, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { ChoosePin } from "../ChoosePin.tsx";
import { errorMessage } from "../errors.ts";
import { walletRuntime } from "../runtime.ts";
import { formatDate, Link, Notice, Screen, unbroken } from "../ui.tsx";

export function ResetPin() {
  const { t, i18n } = useTranslation("wallet");
  const ids = { number: useId(), expiry: useId(), cvc: useId(), code: useId() };
  const [card, setCard] = useState({ number: "", expiry: "", cvc: "" });
  const [stage, setStage] = useState<"card" | "pin" | "code" | "done">("card");
  const [pending, setPending] = useState<PendingPinReset | undefined>();
  const [done, setDone] = useState<PinReset | undefined>();
  const [code, setCode] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();

  const choose = async (newPin: string) => {
    setBusy(true);
    setError(undefined);
    try {
      const started = await walletRuntime().wallet.startPinReset(
        { pan: card.number.replace(/\s/g, ""), expiry: card.expiry, cvc: card.cvc },
        newPin,
      );
      setCard({ number: "", expiry: "", cvc: "" });
      setPending(started);
      setStage("code");
    } catch (cause) {
      setError(errorMessage(cause, t));
      setStage("card");
    } finally {
      setBusy(false);
    }
  };

  const verify = async (event: FormEvent) => {
    event.preventDefault();
    if (!pending) return;
    setBusy(true);
    setError(undefined);
    try {
      setDone(await pending.complete(code.trim()));
      setStage("done");
    } catch (cause) {
      setError(errorMessage(cause, t));
    } finally {
      setBusy(false);
    }
  };

  if (stage === "pin")
    return (
      <Screen title={t("resetPin.title")}>
        <ChoosePin busy={busy} error={error} onChosen={(pin) => void choose(pin)} onCancel={() => setStage("card")} />
      </Screen>
    );
  if (stage === "code" && pending)
    return (
      <Screen title={t("resetPin.title")} back="/wallet/settings">
        <form className="card form" onSubmit={verify} noValidate>
          <p>{t("addCard.codeSent", { issuer: pending.issuerName, phone: unbroken(pending.codeSentTo) })}</p>
          <label htmlFor={ids.code}>{t("addCard.code")}</label>
          <input
            id={ids.code}
            className="input input-code"
            inputMode="numeric"
            autoComplete="one-time-code"
            value={code}
            onChange={(event) => setCode(event.target.value.replace(/\D/g, ""))}
          />
          <Notice message={error} tone="error" />
          <button type="submit" className="button button-primary button-block" disabled={busy || code.length < 4}>
            {t("addCard.verify")}
          </button>
        </form>
      </Screen>
    );
  if (stage === "done" && done)
    return (
      <Screen title={t("resetPin.title")} back="/wallet/settings">
        <section className="card">
          <p role="status">
            {done.activatesAt
              ? t("resetPin.waiting", { date: formatDate(done.activatesAt, i18n.language) })
              : t("resetPin.requested")}
          </p>
          <Link to="/wallet" className="button button-primary button-block">
            {t("pay.toWallet")}
          </Link>
        </section>
      </Screen>
    );

  return (
    <Screen title={t("resetPin.title")} back="/wallet/settings">
      <form
        className="card form"
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          setStage("pin");
        }}
      >
        <p>{t("resetPin.lead")}</p>
        <label htmlFor={ids.number}>{t("addCard.number")}</label>
        <input
          id={ids.number}
          className="input"
          inputMode="numeric"
          autoComplete="cc-number"
          value={card.number}
          onChange={(event) => setCard({ ...card, number: event.target.value.replace(/[^\d ]/g, "") })}
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
              value={card.expiry}
              onChange={(event) => setCard({ ...card, expiry: event.target.value })}
            />
          </div>
          <div>
            <label htmlFor={ids.cvc}>{t("addCard.cvc")}</label>
            <input
              id={ids.cvc}
              className="input"
              type="password"
              inputMode="numeric"
              autoComplete="cc-csc"
              maxLength={4}
              value={card.cvc}
              onChange={(event) => setCard({ ...card, cvc: event.target.value.replace(/\D/g, "") })}
            />
          </div>
        </div>
        <Notice message={error} tone="error" />
        <button type="submit" className="button button-primary button-block">
          {t("resetPin.next")}
        </button>
      </form>
    </Screen>
  );
}
