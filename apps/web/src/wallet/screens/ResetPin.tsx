/**
 * Resetting a forgotten or locked PIN with the card (DESIGN.md's power order): the card's details go encrypted to its
 * issuer, which sends a code to the phone on file; the new PIN takes effect after the waiting period, announced in
 * the messenger, unless someone who knows the current PIN cancels it.
 */
import type { PendingPinReset, PinReset } from "@mpay/wallet";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { ChoosePin } from "../ChoosePin.tsx";
import { errorMessage } from "../errors.ts";
import { walletRuntime } from "../runtime.ts";
import { formatDate, Link, Notice, Screen } from "../ui.tsx";
import { CardFields, EMPTY_CARD_DETAILS, panOf } from "./CardFields.tsx";
import { IssuerCodeForm } from "./IssuerCodeForm.tsx";

export function ResetPin() {
  const { t, i18n } = useTranslation("wallet");
  const [card, setCard] = useState<{ number: string; expiry: string; cvc: string }>(EMPTY_CARD_DETAILS);
  const [stage, setStage] = useState<"card" | "pin" | "code" | "done">("card");
  const [pending, setPending] = useState<PendingPinReset | undefined>();
  const [done, setDone] = useState<PinReset | undefined>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();

  const choose = async (newPin: string) => {
    setBusy(true);
    setError(undefined);
    try {
      const started = await walletRuntime().wallet.startPinReset(
        { pan: panOf(card), expiry: card.expiry, cvc: card.cvc },
        newPin,
      );
      setCard(EMPTY_CARD_DETAILS);
      setPending(started);
      setStage("code");
    } catch (cause) {
      setError(errorMessage(cause, t));
      setStage("card");
    } finally {
      setBusy(false);
    }
  };

  const verify = async (code: string) => {
    if (!pending) return;
    setBusy(true);
    setError(undefined);
    try {
      setDone(await pending.complete(code));
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
        <IssuerCodeForm
          issuerName={pending.issuerName}
          codeSentTo={pending.codeSentTo}
          busy={busy}
          error={error}
          onSubmit={(code) => void verify(code)}
        />
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
        <CardFields details={card} onChange={setCard} />
        <Notice message={error} tone="error" />
        <button type="submit" className="button button-primary button-block">
          {t("resetPin.next")}
        </button>
      </form>
    </Screen>
  );
}
