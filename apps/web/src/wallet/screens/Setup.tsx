/**
 * After sign-in, before anything else: this device is bound (the payer's first device binds on that sign-in, as the
 * SDK does: a non-extractable P-256 key made in IndexedDB) and the payment PIN is set. A payer who already uses
 * MPay elsewhere is told how to add this device; a device still in its waiting period says until when.
 */
import { isPayApiError, type Device } from "@mpay/wallet";
import { useEffect, useState, type ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { ChoosePin } from "../ChoosePin.tsx";
import { thisDeviceName } from "../device-name.ts";
import { errorCode, errorMessage } from "../errors.ts";
import { signedOut, walletRuntime } from "../runtime.ts";
import { formatDate, Loading, Notice, Screen } from "../ui.tsx";

type SetupState =
  | { kind: "checking" }
  | { kind: "binding" }
  | { kind: "needs-approval" }
  | { kind: "not-active"; device: Device }
  | { kind: "needs-pin" }
  | { kind: "ready" }
  | { kind: "failed"; message: string };

/** Once this tab found the device bound and the PIN set, it does not ask again until sign-out. */
let readyInThisTab = false;
export function forgetSetup(): void {
  readyInThisTab = false;
}

async function checkSetup(onBinding: () => void): Promise<SetupState> {
  const { wallet } = walletRuntime();
  let device = await wallet.thisDevice();
  if (device === undefined) {
    onBinding();
    try {
      device = await wallet.bindThisDevice(thisDeviceName());
    } catch (error) {
      if (isPayApiError(error, "device_approval_required")) return { kind: "needs-approval" };
      throw error;
    }
  }
  if (device.status !== "active") return { kind: "not-active", device };
  const pin = await wallet.pinStatus();
  return pin.set ? { kind: "ready" } : { kind: "needs-pin" };
}

export function Setup({ children }: { children: ReactNode }) {
  const { t, i18n } = useTranslation("wallet");
  const [state, setState] = useState<SetupState>(readyInThisTab ? { kind: "ready" } : { kind: "checking" });
  const [busy, setBusy] = useState(false);
  const [pinError, setPinError] = useState<string | undefined>();

  useEffect(() => {
    if (readyInThisTab) return;
    let live = true;
    checkSetup(() => live && setState({ kind: "binding" })).then(
      (next) => {
        if (!live) return;
        readyInThisTab = next.kind === "ready";
        setState(next);
      },
      (error: unknown) => {
        if (!live) return;
        if (errorCode(error) === "payer_session_invalid") signedOut();
        setState({ kind: "failed", message: errorMessage(error, t) });
      },
    );
    return () => {
      live = false;
    };
  }, [t]);

  const setPin = async (pin: string) => {
    setBusy(true);
    setPinError(undefined);
    try {
      await walletRuntime().wallet.setPin(pin);
      readyInThisTab = true;
      setState({ kind: "ready" });
    } catch (error) {
      setPinError(errorMessage(error, t));
    } finally {
      setBusy(false);
    }
  };

  switch (state.kind) {
    case "ready":
      return children;
    case "checking":
      return (
        <Screen title={t("setup.title")}>
          <Loading />
        </Screen>
      );
    case "binding":
      return (
        <Screen title={t("setup.title")}>
          <p className="loading" role="status">
            {t("setup.binding")}
          </p>
        </Screen>
      );
    case "needs-approval":
      return (
        <Screen title={t("setup.title")}>
          <section className="card">
            <h2>{t("setup.otherDeviceTitle")}</h2>
            <p>{t("setup.otherDevice")}</p>
          </section>
        </Screen>
      );
    case "not-active":
      return (
        <Screen title={t("setup.title")}>
          <section className="card">
            <p role="status">
              {state.device.status === "pending"
                ? t("setup.pending", { date: formatDate(state.device.activatesAt, i18n.language) })
                : t("setup.revoked")}
            </p>
          </section>
        </Screen>
      );
    case "needs-pin":
      return (
        <Screen title={t("setup.pinTitle")}>
          <p className="lead">{t("setup.pinLead")}</p>
          <ChoosePin busy={busy} error={pinError} onChosen={setPin} />
        </Screen>
      );
    case "failed":
      return (
        <Screen title={t("setup.title")}>
          <Notice message={state.message} tone="error" />
        </Screen>
      );
  }
}
