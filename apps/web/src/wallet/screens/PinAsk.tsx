/**
 * Asks for the PIN for one security action (cancel a pending change, remove another device): the shuffled pad, the
 * action run with the PIN at once, and a wrong PIN told with the tries left (a new, reshuffled pad). A locked PIN
 * shows what to do next.
 */
import { isPayApiError, isWalletError } from "@mpay/wallet";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { errorMessage } from "../errors.ts";
import { PinPad } from "../PinPad.tsx";
import { walletRuntime } from "../runtime.ts";
import { PinLocked } from "./PinLocked.tsx";

export function PinAsk({
  title,
  description,
  run,
  onDone,
  onCancel,
}: {
  title: string;
  description?: string;
  run(pin: string): Promise<void>;
  onDone(): void;
  onCancel(): void;
}) {
  const { t } = useTranslation("wallet");
  const [round, setRound] = useState(0);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const [locked, setLocked] = useState(false);

  const onComplete = async (pin: string) => {
    setBusy(true);
    setError(undefined);
    try {
      await run(pin);
      onDone();
      return;
    } catch (cause) {
      if (isPayApiError(cause, "pin_locked")) return setLocked(true);
      if (isWalletError(cause, "pin_incorrect")) {
        const status = await walletRuntime()
          .wallet.pinStatus()
          .catch(() => undefined);
        if (status?.locked) return setLocked(true);
        setError(status ? t("pay.wrongPinLeft", { count: status.triesLeft }) : t("pay.wrongPin"));
      } else setError(errorMessage(cause, t));
      setRound((n) => n + 1);
    } finally {
      setBusy(false);
    }
  };

  if (locked) return <PinLocked />;
  return (
    <PinPad
      key={round}
      title={title}
      description={description ? <p className="muted">{description}</p> : undefined}
      error={error}
      busy={busy}
      onComplete={(pin) => void onComplete(pin)}
      onCancel={onCancel}
    />
  );
}
