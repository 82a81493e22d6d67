/**
 * Adding a card: number, expiry, CVC and name go encrypted to the issuer whose network certificate covers the
 * card's BIN (the SDK picks it; the pay server cannot read or redirect them), then the issuer's one-time code sent
 * to the phone on file. The typed details leave this screen's state as soon as the enrollment starts.
 */
import type { BoundPasskey } from "@mpay/protocol";
import type { PendingCardEnrollment } from "@mpay/wallet";
import { useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { navigate } from "../../shell/router.ts";
import { errorMessage } from "../errors.ts";
import { boundAtEnrollment, cardBoundToPasskeys, livePasskeys } from "../passkeys.ts";
import { safeReturnPath } from "../session.ts";
import { walletRuntime } from "../runtime.ts";
import { Notice, Screen } from "../ui.tsx";
import { CardFields, EMPTY_CARD_DETAILS, panOf } from "./CardFields.tsx";
import { IssuerCodeForm } from "./IssuerCodeForm.tsx";

export function AddCard() {
  const { t } = useTranslation("wallet");
  const [details, setDetails] = useState({ ...EMPTY_CARD_DETAILS, name: "" });
  const [pending, setPending] = useState<{ enrollment: PendingCardEnrollment; passkeys: BoundPasskey[] } | undefined>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();

  const start = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const { wallet, client, keyStore } = walletRuntime();
      // This device's passkeys, bound at the issuer with the card: only those can later approve its payments.
      const passkeys = boundAtEnrollment(await livePasskeys(keyStore, () => client.passkeys.list()));
      const started = await wallet.startCardEnrollment(
        {
          pan: panOf(details),
          expiry: details.expiry,
          cvc: details.cvc,
          ...(details.name.trim() ? { holderName: details.name.trim() } : {}),
        },
        { passkeys },
      );
      setDetails({ ...EMPTY_CARD_DETAILS, name: "" });
      setPending({ enrollment: started, passkeys });
    } catch (cause) {
      setError(errorMessage(cause, t));
    } finally {
      setBusy(false);
    }
  };

  const complete = async (code: string) => {
    if (!pending) return;
    setBusy(true);
    setError(undefined);
    try {
      const card = await pending.enrollment.complete(code);
      await cardBoundToPasskeys(walletRuntime().keyStore, card.id, pending.passkeys);
      // Opened from a pay sheet: back to that payment, now payable with this card.
      const then = new URLSearchParams(location.search).get("then");
      navigate(then ? safeReturnPath(then) : `/wallet/cards?added=${encodeURIComponent(card.last4)}`, {
        replace: true,
      });
    } catch (cause) {
      setError(errorMessage(cause, t));
      setBusy(false);
    }
  };

  if (pending)
    return (
      <Screen title={t("addCard.codeTitle")} back="/wallet/cards">
        <IssuerCodeForm
          issuerName={pending.enrollment.issuerName}
          codeSentTo={pending.enrollment.codeSentTo}
          busy={busy}
          error={error}
          onSubmit={(code) => void complete(code)}
        />
      </Screen>
    );

  return (
    <Screen title={t("addCard.title")} back="/wallet/cards">
      <form className="card form" onSubmit={start} noValidate>
        <p className="muted">{t("addCard.privacy")}</p>
        <CardFields details={details} onChange={setDetails} />
        <Notice message={error} tone="error" />
        <button type="submit" className="button button-primary button-block" disabled={busy}>
          {busy ? t("addCard.sending") : t("addCard.next")}
        </button>
      </form>
    </Screen>
  );
}
