/**
 * Choosing a new PIN: typed twice on the shuffled pad (reshuffled for the second time), refused when easy to guess
 * or when the two differ. The first entry is held in a ref only until the second arrives.
 */
import { useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { PinPad } from "./PinPad.tsx";
import { isGuessablePin } from "./pin-rules.ts";

export function ChoosePin({
  busy,
  error,
  onChosen,
  onCancel,
}: {
  busy: boolean;
  error?: string | undefined;
  onChosen(pin: string): void;
  onCancel?: () => void;
}) {
  const { t } = useTranslation("wallet");
  const first = useRef<string | undefined>(undefined);
  const [round, setRound] = useState(0);
  const [problem, setProblem] = useState<string | undefined>();
  const confirming = round % 2 === 1;

  const onComplete = (pin: string) => {
    if (!confirming) {
      if (isGuessablePin(pin)) {
        setProblem(t("choosePin.guessable"));
        setRound((n) => n + 2);
        return;
      }
      first.current = pin;
      setProblem(undefined);
      setRound((n) => n + 1);
      return;
    }
    const matches = first.current === pin;
    first.current = undefined;
    if (!matches) {
      setProblem(t("choosePin.mismatch"));
      setRound((n) => n + 1);
      return;
    }
    setProblem(undefined);
    onChosen(pin);
  };

  return (
    <PinPad
      key={round}
      title={confirming ? t("choosePin.again") : t("choosePin.title")}
      description={<p className="muted">{confirming ? t("choosePin.againHint") : t("choosePin.hint")}</p>}
      error={problem ?? error}
      busy={busy}
      onComplete={onComplete}
      onCancel={onCancel}
    />
  );
}
