/**
 * The 6-digit payment PIN pad. Its digits are shuffled each time it opens (pin-layout.ts); entered digits show as
 * dots; typing a digit on a keyboard presses that digit wherever it sits, Backspace deletes, Escape cancels. The
 * PIN is handed to `onComplete` as soon as the sixth digit is in and the pad forgets it at once: it is never kept
 * beyond that call, never put in the DOM, a log or storage.
 */
import { useCallback, useEffect, useId, useRef, useState, type ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { digitOfKey, PIN_LENGTH, shuffledDigits } from "./pin-layout.ts";

export interface PinPadProps {
  title: string;
  /** What the PIN is for (the signed terms of a payment, say), shown above the dots. */
  description?: ReactNode;
  /** The last problem (a wrong PIN and the tries left), announced at once. */
  error?: string | undefined;
  /** While the PIN is being checked: keys do nothing, and the pad says it is working. */
  busy?: boolean;
  onComplete(pin: string): void;
  onCancel?: (() => void) | undefined;
}

export function PinPad({ title, description, error, busy = false, onComplete, onCancel }: PinPadProps) {
  const { t } = useTranslation("wallet");
  const [digits] = useState(() => shuffledDigits());
  const [count, setCount] = useState(0);
  const [pressed, setPressed] = useState<string | null>(null);
  // The digits typed so far live in a ref, not in state: nothing renders them, and the pad wipes them on completion.
  const entered = useRef("");
  const titleId = useId();
  const statusId = useId();

  const press = useCallback(
    (digit: string) => {
      if (busy || entered.current.length >= PIN_LENGTH) return;
      entered.current += digit;
      if (entered.current.length === PIN_LENGTH) {
        const pin = entered.current;
        entered.current = "";
        setCount(0);
        onComplete(pin);
      } else setCount(entered.current.length);
    },
    [busy, onComplete],
  );

  const erase = useCallback(() => {
    if (busy) return;
    entered.current = entered.current.slice(0, -1);
    setCount(entered.current.length);
  }, [busy]);

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      const digit = digitOfKey(event.key);
      if (digit !== null) {
        event.preventDefault();
        setPressed(digit);
        press(digit);
      } else if (event.key === "Backspace") {
        event.preventDefault();
        erase();
      } else if (event.key === "Escape" && onCancel) {
        event.preventDefault();
        onCancel();
      }
    };
    addEventListener("keydown", onKey);
    return () => removeEventListener("keydown", onKey);
  }, [press, erase, onCancel]);

  useEffect(() => {
    if (pressed === null) return;
    const timer = setTimeout(() => setPressed(null), 150);
    return () => clearTimeout(timer);
  }, [pressed]);

  useEffect(
    () => () => {
      entered.current = "";
    },
    [],
  );

  const key = (digit: string) => (
    <button
      key={digit}
      type="button"
      className={`pin-key${pressed === digit ? " pin-key-pressed" : ""}`}
      onClick={() => press(digit)}
      disabled={busy}
    >
      {digit}
    </button>
  );

  return (
    <section className="pin-pad" role="group" aria-labelledby={titleId} aria-describedby={statusId}>
      <h2 id={titleId} className="pin-title">
        {title}
      </h2>
      {description !== undefined && <div className="pin-description">{description}</div>}
      <div className="pin-dots" aria-hidden="true">
        {Array.from({ length: PIN_LENGTH }, (_, i) => (
          <span key={i} className={`pin-dot${i < count ? " pin-dot-filled" : ""}`} />
        ))}
      </div>
      <p id={statusId} className="visually-hidden" aria-live="polite">
        {busy ? t("pin.checking") : t("pin.entered", { count, total: PIN_LENGTH })}
      </p>
      <p className="pin-error" role="alert">
        {error ?? ""}
      </p>
      {busy && (
        <p className="pin-busy" aria-hidden="true">
          {t("pin.checking")}
        </p>
      )}
      <div className="pin-keys">
        {digits.slice(0, 9).map(key)}
        {onCancel ? (
          <button type="button" className="pin-key pin-key-text" onClick={onCancel} disabled={busy}>
            {t("pin.cancel")}
          </button>
        ) : (
          <span className="pin-key-blank" aria-hidden="true" />
        )}
        {key(digits[9] as string)}
        <button
          type="button"
          className="pin-key pin-key-text"
          onClick={erase}
          disabled={busy || count === 0}
          aria-label={t("pin.delete")}
        >
          ⌫
        </button>
      </div>
      <p className="pin-hint">{t("pin.keyboardHint")}</p>
    </section>
  );
}
