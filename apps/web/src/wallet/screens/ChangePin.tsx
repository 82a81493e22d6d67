/**
 * Changing the PIN: the current one first (a wrong one spends a try and says how many are left), then the new one
 * twice. The current PIN is held in a ref only until the change is sent.
 */
import { isPayApiError, isWalletError } from "@mpay/wallet";
import { useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { navigate } from "../../shell/router.ts";
import { ChoosePin } from "../ChoosePin.tsx";
import { errorMessage } from "../errors.ts";
import { PinPad } from "../PinPad.tsx";
import { walletRuntime } from "../runtime.ts";
import { Screen } from "../ui.tsx";
import { PinLocked } from "./PinLocked.tsx";

export function ChangePin() {
  const { t } = useTranslation("wallet");
  const current = useRef<string | undefined>(undefined);
  const [stage, setStage] = useState<"current" | "new" | "locked">("current");
  const [round, setRound] = useState(0);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const back = () => navigate("/wallet/settings");

  const change = async (newPin: string) => {
    const currentPin = current.current;
    current.current = undefined;
    if (currentPin === undefined) return setStage("current");
    setBusy(true);
    setError(undefined);
    try {
      await walletRuntime().wallet.changePin(currentPin, newPin);
      navigate("/wallet/settings?changed=pin", { replace: true });
    } catch (cause) {
      setBusy(false);
      if (isPayApiError(cause, "pin_locked")) return setStage("locked");
      if (isWalletError(cause, "pin_incorrect")) {
        const status = await walletRuntime()
          .wallet.pinStatus()
          .catch(() => undefined);
        if (status?.locked) return setStage("locked");
        setError(status ? t("pay.wrongPinLeft", { count: status.triesLeft }) : t("pay.wrongPin"));
      } else setError(errorMessage(cause, t));
      setRound((n) => n + 1);
      setStage("current");
    }
  };

  return (
    <Screen title={t("settings.changePin")}>
      {stage === "locked" && <PinLocked />}
      {stage === "current" && (
        <PinPad
          key={round}
          title={t("changePin.current")}
          error={error}
          onComplete={(pin) => {
            current.current = pin;
            setError(undefined);
            setStage("new");
          }}
          onCancel={back}
        />
      )}
      {stage === "new" && <ChoosePin busy={busy} error={error} onChosen={(pin) => void change(pin)} onCancel={back} />}
    </Screen>
  );
}
