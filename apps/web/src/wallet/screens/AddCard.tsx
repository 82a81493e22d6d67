/**
 * Adding a card: number, expiry, CVC and name go encrypted to the issuer whose network certificate covers the
 * card's BIN (the SDK picks it; the pay server cannot read or redirect them), then the issuer's one-time code sent
 * to the phone on file. The typed details leave this screen's state as soon as the enrollment starts.
 */
import type { PendingCardEnrollment } from "@mpay/wallet";
import { useId, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { navigate } from "../../shell/router.ts";
import { errorMessage } from "../errors.ts";
import { cardBoundToPasskeys, storedPasskeys } from "../passkeys.ts";
import { safeReturnPath } from "../session.ts";
import { walletRuntime } from "../runtime.ts";
import { Notice, Screen, unbroken } from "../ui.tsx";

/** `4111 1111 1111 1111` as the payer types it: groups of four, digits only. */
function groupedNumber(value: string): string {
  return value
    .replace(/\D/g, "")
    .slice(0, 19)
    .replace(/(\d{4})(?=\d)/g, "$1 ");
}

/** `12/31` from whatever the payer types (`1231`, `12 / 31`). */
function typedExpiry(value: string): string {
  const digits = value.replace(/\D/g, "").slice(0, 4);
  return digits.length > 2 ? `${digits.slice(0, 2)}/${digits.slice(2)}` : digits;
}

export function AddCard() {
  const { t } = useTranslation("wallet");
  const ids = { number: useId(), expiry: useId(), cvc: useId(), name: useId(), code: useId(), codeHint: useId() };
  const [details, setDetails] = useState({ number: "", expiry: "", cvc: "", name: "" });
  const [pending, setPending] = useState<PendingCardEnrollment | undefined>();
  const [code, setCode] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();

  const start = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const { wallet, keyStore } = walletRuntime();
      const started = await wallet.startCardEnrollment(
        {
          pan: details.number.replace(/\s/g, ""),
          expiry: details.expiry,
          cvc: details.cvc,
          ...(details.name.trim() ? { holderName: details.name.trim() } : {}),
        },
        { passkeys: await storedPasskeys(keyStore) },
      );
      setDetails({ number: "", expiry: "", cvc: "", name: "" });
      setPending(started);
    } catch (cause) {
      setError(errorMessage(cause, t));
    } finally {
      setBusy(false);
    }
  };

  const complete = async (event: FormEvent) => {
    event.preventDefault();
    if (!pending) return;
    setBusy(true);
    setError(undefined);
    try {
      const card = await pending.complete(code.trim());
      await cardBoundToPasskeys(walletRuntime().keyStore, card.id);
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
        <form className="card form" onSubmit={complete} noValidate>
          <p id={ids.codeHint}>
            {t("addCard.codeSent", { issuer: pending.issuerName, phone: unbroken(pending.codeSentTo) })}
          </p>
          <label htmlFor={ids.code}>{t("addCard.code")}</label>
          <input
            id={ids.code}
            name="one-time-code"
            className="input input-code"
            inputMode="numeric"
            autoComplete="one-time-code"
            pattern="[0-9]*"
            maxLength={8}
            aria-describedby={ids.codeHint}
            value={code}
            onChange={(event) => setCode(event.target.value.replace(/\D/g, ""))}
            required
          />
          <Notice message={error} tone="error" />
          <button type="submit" className="button button-primary button-block" disabled={busy || code.length < 4}>
            {busy ? t("addCard.verifying") : t("addCard.verify")}
          </button>
        </form>
      </Screen>
    );

  return (
    <Screen title={t("addCard.title")} back="/wallet/cards">
      <form className="card form" onSubmit={start} noValidate>
        <p className="muted">{t("addCard.privacy")}</p>
        <label htmlFor={ids.number}>{t("addCard.number")}</label>
        <input
          id={ids.number}
          className="input"
          inputMode="numeric"
          autoComplete="cc-number"
          value={details.number}
          onChange={(event) => setDetails({ ...details, number: groupedNumber(event.target.value) })}
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
              onChange={(event) => setDetails({ ...details, expiry: typedExpiry(event.target.value) })}
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
              onChange={(event) => setDetails({ ...details, cvc: event.target.value.replace(/\D/g, "") })}
              required
            />
          </div>
        </div>
        <label htmlFor={ids.name}>{t("addCard.name")}</label>
        <input
          id={ids.name}
          className="input"
          autoComplete="cc-name"
          value={details.name}
          onChange={(event) => setDetails({ ...details, name: event.target.value })}
        />
        <Notice message={error} tone="error" />
        <button type="submit" className="button button-primary button-block" disabled={busy}>
          {busy ? t("addCard.sending") : t("addCard.next")}
        </button>
      </form>
    </Screen>
  );
}
