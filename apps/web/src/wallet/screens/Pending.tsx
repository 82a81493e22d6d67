/**
 * What waits to take effect (a new device, a recovery, a PIN reset): each with when it takes effect, and "Not me —
 * cancel" with the PIN (a device's word alone cancels nothing, DESIGN.md's power order).
 */
import type { PendingChange } from "@mpay/wallet";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { walletRuntime } from "../runtime.ts";
import { formatDate, Loading, Notice, Screen, useLoad } from "../ui.tsx";
import { PinAsk } from "./PinAsk.tsx";

export function Pending({ path }: { path: string }) {
  const { t, i18n } = useTranslation("wallet");
  const changes = useLoad(() => walletRuntime().wallet.pendingChanges(), "pending");
  const [canceling, setCanceling] = useState<PendingChange | undefined>();
  const [message, setMessage] = useState<string | undefined>();

  if (canceling)
    return (
      <Screen title={t("pending.cancelTitle")}>
        <PinAsk
          title={t("pending.pinTitle")}
          description={t(`pending.kind.${canceling.kind}`, { device: canceling.deviceName })}
          run={async (pin) => {
            await walletRuntime().wallet.cancelPendingChange(canceling, pin);
          }}
          onDone={() => {
            setMessage(t("pending.canceled"));
            setCanceling(undefined);
            changes.reload();
          }}
          onCancel={() => setCanceling(undefined)}
        />
      </Screen>
    );

  return (
    <Screen title={t("pending.title")} back="/wallet" path={path}>
      <Notice message={message} tone="success" />
      {changes.loading && !changes.data && <Loading />}
      <Notice message={changes.error} tone="error" />
      {changes.data?.length === 0 && <p className="card empty">{t("pending.none")}</p>}
      <ul className="list">
        {changes.data?.map((change) => (
          <li key={change.id} className="card">
            <h2 className="item-title">{t(`pending.kind.${change.kind}`, { device: change.deviceName })}</h2>
            <p>{t("pending.activates", { date: formatDate(change.activatesAt, i18n.language) })}</p>
            {change.revokesOtherDevices && <p className="warning-text">{t("pending.revokesOthers")}</p>}
            <button type="button" className="button button-danger button-block" onClick={() => setCanceling(change)}>
              {t("pending.cancel")}
            </button>
          </li>
        ))}
      </ul>
    </Screen>
  );
}
