/**
 * The pay sheet, `/wallet/pay/:paymentId`: what the payment is (the merchant's registered name, the item, the
 * amount, the pairing code the checkout shows), which card, then approval with the PIN pad or a passkey, then the
 * issuer's decision. The wallet signs only terms equal to what this sheet showed (`confirm` compares them), so the
 * payer approves exactly the merchant and amount on screen. A wrong PIN says how many tries are left; a locked PIN
 * says what to do next; an expired or canceled payment says so. The passkey is offered only for a card bound to one
 * of this device's passkeys at its issuer (enrolled after the passkey was added); for a card enrolled before, the
 * sheet says it pays with the PIN. A passkey that fails (the device did not verify the payer) pays nothing, and the
 * sheet says so and points to the PIN.
 */
import { isPayApiError, isWalletError, type Card, type PayerPayment, type PaymentOutcome } from "@mpay/wallet";
import { useId, useState } from "react";
import { useTranslation } from "react-i18next";
import { formatAmount } from "../../shell/i18n.ts";
import { errorCode, errorMessage } from "../errors.ts";
import { assertPasskey, livePasskeys, passkeySupport, type StoredPasskey } from "../passkeys.ts";
import { PinPad } from "../PinPad.tsx";
import { walletRuntime } from "../runtime.ts";
import { Link, Loading, Money, Notice, Screen, useLoad } from "../ui.tsx";
import { PaymentSummary } from "./PaymentSummary.tsx";
import { PinLocked } from "./PinLocked.tsx";

type Step =
  | { kind: "review" }
  | { kind: "pin"; error?: string | undefined; round: number }
  | { kind: "approving"; method: "pin" | "passkey"; round: number }
  | { kind: "done"; outcome: PaymentOutcome }
  | { kind: "locked" }
  | { kind: "closed"; status: PayerPayment["status"] };

interface SheetData {
  payment: PayerPayment;
  cards: Array<Card & { onThisDevice: boolean }>;
  issuers: Map<string, string>;
  /** Per card, the passkeys of this device bound to it at its issuer. */
  passkeys: Map<string, StoredPasskey[]>;
  /** Whether this device has a passkey at all (then a card without one was enrolled before it). */
  devicePasskeys: boolean;
  pinLocked: boolean;
}

/** The terms the device is about to sign are the ones the sheet shows: same merchant name, amount and currency. */
function sameTerms(terms: { merchantName: string; amount: number; currency: string }, shown: PayerPayment): boolean {
  return (
    terms.merchantName === shown.merchant.name && terms.amount === shown.amount && terms.currency === shown.currency
  );
}

export function PaySheet({ paymentId }: { paymentId: string }) {
  const { t } = useTranslation("wallet");
  const cardGroup = useId();
  const [step, setStep] = useState<Step>({ kind: "review" });
  const [chosen, setChosen] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();
  const sheet = useLoad<SheetData>(async () => {
    const { wallet, client, keyStore } = walletRuntime();
    const [payment, cards, issuers, pin] = await Promise.all([
      client.payments.get(paymentId),
      wallet.cards(),
      client.cards.issuers(),
      wallet.pinStatus(),
    ]);
    const usable = cards.filter((card) => card.status === "active" && card.onThisDevice);
    const live = passkeySupport() === "available" ? await livePasskeys(keyStore, () => client.passkeys.list()) : [];
    const passkeys = new Map(usable.map((card) => [card.id, live.filter((p) => p.cardIds.includes(card.id))]));
    return {
      payment,
      cards: usable,
      issuers: new Map(issuers.map((i) => [i.issuerId, i.name])),
      passkeys,
      devicePasskeys: live.length > 0,
      pinLocked: pin.locked,
    };
  }, `pay:${paymentId}`);

  const data = sheet.data;
  const cardId = chosen ?? data?.cards[0]?.id;
  const card = data?.cards.find((c) => c.id === cardId);

  const approve = async (method: "pin" | "passkey", pin?: string) => {
    if (!data || !card) return;
    const round = step.kind === "pin" ? step.round : 0;
    setStep({ kind: "approving", method, round });
    setError(undefined);
    let changedTerms = false;
    try {
      const { payment } = await walletRuntime().wallet.approvePayment(paymentId, {
        cardId: card.id,
        confirm: async (terms) => {
          changedTerms = !sameTerms(terms, data.payment);
          return !changedTerms;
        },
        ...(method === "pin"
          ? { pin: pin as string }
          : { passkey: (challenge: string) => assertPasskey(challenge, data.passkeys.get(card.id) ?? []) }),
      });
      setStep({ kind: "done", outcome: payment });
    } catch (cause) {
      await failed(cause, method, round, changedTerms);
    }
  };

  const failed = async (cause: unknown, method: "pin" | "passkey", round: number, changedTerms: boolean) => {
    const { wallet, client } = walletRuntime();
    const code = errorCode(cause);
    if (isWalletError(cause, "pin_incorrect")) {
      const status = await wallet.pinStatus().catch(() => undefined);
      if (status?.locked) return setStep({ kind: "locked" });
      const left = status?.triesLeft;
      return setStep({
        kind: "pin",
        round: round + 1,
        error: left === undefined ? t("pay.wrongPin") : t("pay.wrongPinLeft", { count: left }),
      });
    }
    if (isPayApiError(cause, "pin_locked")) return setStep({ kind: "locked" });
    if (changedTerms) {
      setStep({ kind: "review" });
      sheet.reload();
      return setError(t("pay.termsChanged"));
    }
    if (
      code === "payment_invalid_state" ||
      code === "approval_challenge_expired" ||
      code === "terms_expired" ||
      code === "payment_not_found"
    ) {
      const now = await client.payments.get(paymentId).catch(() => undefined);
      if (now && now.status !== "requires_approval") return setStep({ kind: "closed", status: now.status });
    }
    setStep(method === "pin" ? { kind: "pin", round: round + 1, error: errorMessage(cause, t) } : { kind: "review" });
    if (method === "passkey") setError(`${errorMessage(cause, t)} ${t("pay.passkeyNotPaid")}`);
  };

  if (sheet.loading && !data)
    return (
      <Screen title={t("pay.title")} back="/wallet">
        <Loading />
      </Screen>
    );
  if (!data)
    return (
      <Screen title={t("pay.title")} back="/wallet">
        <Notice message={sheet.error} tone="error" />
      </Screen>
    );

  const payment = data.payment;
  const closedStatus =
    step.kind === "closed" ? step.status : payment.status !== "requires_approval" ? payment.status : null;

  if (step.kind === "done")
    return <PayResult payment={payment} outcome={step.outcome} card={card} issuers={data.issuers} />;
  if (step.kind === "locked" || (data.pinLocked && step.kind === "review" && !data.passkeys.get(cardId ?? "")?.length))
    return (
      <Screen title={t("pay.title")} back="/wallet">
        <PaymentSummary payment={payment} />
        <PinLocked />
      </Screen>
    );
  if (closedStatus !== null)
    return (
      <Screen title={t("pay.title")} back="/wallet">
        <PaymentSummary payment={payment} />
        <section className="card result">
          <p className={`result-title result-${closedStatus}`} role="status">
            {t(`pay.closed.${closedStatus}`)}
          </p>
          <p>{t(`pay.closedHint.${closedStatus}`)}</p>
          <Link to="/wallet" className="button button-secondary button-block">
            {t("pay.toWallet")}
          </Link>
        </section>
      </Screen>
    );

  if (step.kind === "pin" || (step.kind === "approving" && step.method === "pin"))
    return (
      <Screen title={t("pay.title")}>
        <PinPad
          key={step.round}
          title={t("pay.pinTitle")}
          description={
            <p className="pin-terms">
              <span>{payment.merchant.name}</span>
              <Money amount={payment.amount} currency={payment.currency} className="pin-terms-amount" />
            </p>
          }
          error={step.kind === "pin" ? step.error : undefined}
          busy={step.kind === "approving"}
          onComplete={(pin) => void approve("pin", pin)}
          onCancel={() => setStep({ kind: "review" })}
        />
      </Screen>
    );

  const passkeys = data.passkeys.get(cardId ?? "") ?? [];
  const busy = step.kind === "approving";
  return (
    <Screen title={t("pay.title")} back="/wallet">
      <PaymentSummary payment={payment} />
      <section className="card" aria-labelledby={cardGroup}>
        <h2 id={cardGroup} className="section-title">
          {t("pay.card")}
        </h2>
        {data.cards.length === 0 ? (
          <>
            <p>{t("pay.noCard")}</p>
            <Link
              to={`/wallet/cards/new?then=${encodeURIComponent(`/wallet/pay/${paymentId}`)}`}
              className="button button-secondary button-block"
            >
              {t("cards.add")}
            </Link>
          </>
        ) : (
          <fieldset className="card-picker">
            <legend className="visually-hidden">{t("pay.card")}</legend>
            {data.cards.map((c) => (
              <label key={c.id} className={`card-option${c.id === cardId ? " card-option-chosen" : ""}`}>
                <input
                  type="radio"
                  name="card"
                  value={c.id}
                  checked={c.id === cardId}
                  onChange={() => setChosen(c.id)}
                />
                <span className="card-option-name">{data.issuers.get(c.issuerId) ?? c.issuerId}</span>
                <span className="card-option-number">••••&nbsp;{c.last4}</span>
              </label>
            ))}
          </fieldset>
        )}
        {card && data.devicePasskeys && passkeys.length === 0 && (
          <p className="muted small">{t("pay.passkeyNotForCard")}</p>
        )}
      </section>
      <Notice message={error} tone="error" />
      {busy && (
        <p className="loading" role="status">
          {t("pay.approving")}
        </p>
      )}
      <div className="pay-actions">
        <button
          type="button"
          className="button button-primary button-block button-large"
          disabled={!card || busy || data.pinLocked}
          onClick={() => setStep({ kind: "pin", round: 0 })}
        >
          {t("pay.payAmount", { amount: formatAmount(payment.amount, payment.currency) })}
        </button>
        {passkeys.length > 0 && (
          <button
            type="button"
            className="button button-secondary button-block"
            disabled={!card || busy}
            onClick={() => void approve("passkey")}
          >
            {t("pay.payWithPasskey")}
          </button>
        )}
        <Link to="/wallet" className="button button-text button-block">
          {t("pay.notNow")}
        </Link>
      </div>
    </Screen>
  );
}

const DECLINE_REASONS = new Set([
  "insufficient_funds",
  "expired_card",
  "lost_or_stolen",
  "suspected_fraud",
  "authentication_failed",
  "card_not_found",
  "do_not_honor",
  "issuer_unavailable",
  "currency_not_supported",
]);

function PayResult({
  payment,
  outcome,
  card,
  issuers,
}: {
  payment: PayerPayment;
  outcome: PaymentOutcome;
  card: Card | undefined;
  issuers: Map<string, string>;
}) {
  const { t } = useTranslation("wallet");
  const approved = outcome.status === "authorized" || outcome.status === "captured";
  const reason = outcome.declineCode && DECLINE_REASONS.has(outcome.declineCode) ? outcome.declineCode : "other";
  return (
    <Screen title={approved ? t("pay.paidTitle") : t("pay.declinedTitle")}>
      <section className={`card result ${approved ? "result-ok" : "result-declined"}`}>
        <p className="result-mark" aria-hidden="true">
          {approved ? "✓" : "!"}
        </p>
        <p className="result-title" role="status">
          {approved ? t("pay.paid") : t("pay.declined")}
        </p>
        <p className="result-amount">
          <Money amount={outcome.amount} currency={outcome.currency} />
        </p>
        <p className="muted">
          {payment.merchant.name} · {payment.itemName}
        </p>
        {card && (
          <p className="muted">
            {issuers.get(card.issuerId) ?? card.issuerId} ••••&nbsp;{card.last4}
          </p>
        )}
        {!approved && <p>{t(`pay.declineReason.${reason}`)}</p>}
        <Link to={approved ? "/wallet/history" : "/wallet"} className="button button-primary button-block">
          {t("pay.done")}
        </Link>
      </section>
    </Screen>
  );
}
