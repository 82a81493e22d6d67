/**
 * The payer's devices: this one marked, each with its state; removing another device takes the PIN, removing this
 * one is its own word (then this tab signs out: the device can no longer pay).
 */
import type { Device } from "@mpay/wallet";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { errorMessage } from "../errors.ts";
import { signedOut, walletRuntime } from "../runtime.ts";
import { formatDate, Loading, Notice, Screen, useLoad } from "../ui.tsx";
import { PinAsk } from "./PinAsk.tsx";

export function Devices({ path }: { path: string }) {
  const { t, i18n } = useTranslation("wallet");
  const devices = useLoad(async () => {
    const { wallet } = walletRuntime();
    const [list, mine] = await Promise.all([wallet.devices(), wallet.thisDevice()]);
    return { list: list.filter((d) => d.status === "active" || d.status === "pending"), mine: mine?.id };
  }, "devices");
  const [removing, setRemoving] = useState<Device | undefined>();
  const [confirmSelf, setConfirmSelf] = useState(false);
  const [message, setMessage] = useState<{ text: string; tone: "success" | "error" } | undefined>();

  if (removing)
    return (
      <Screen title={t("devices.removeTitle")}>
        <PinAsk
          title={t("devices.pinTitle")}
          description={t("devices.removeOther", { name: removing.name })}
          run={async (pin) => {
            await walletRuntime().wallet.revokeDevice(removing.id, { pin });
          }}
          onDone={() => {
            setMessage({ text: t("devices.removed", { name: removing.name }), tone: "success" });
            setRemoving(undefined);
            devices.reload();
          }}
          onCancel={() => setRemoving(undefined)}
        />
      </Screen>
    );

  const removeSelf = async (id: string) => {
    try {
      await walletRuntime().wallet.revokeDevice(id);
      signedOut();
    } catch (error) {
      setMessage({ text: errorMessage(error, t), tone: "error" });
    }
  };

  return (
    <Screen title={t("devices.title")} back="/wallet" path={path}>
      <Notice message={message?.text} tone={message?.tone ?? "info"} />
      {devices.loading && !devices.data && <Loading />}
      <Notice message={devices.error} tone="error" />
      <ul className="list">
        {devices.data?.list.map((device) => {
          const self = device.id === devices.data?.mine;
          return (
            <li key={device.id} className="card">
              <h2 className="item-title">
                {device.name}
                {self && <span className="badge">{t("devices.thisOne")}</span>}
              </h2>
              <p className="muted">
                {device.status === "pending"
                  ? t("devices.pending", { date: formatDate(device.activatesAt, i18n.language) })
                  : t("devices.since", { date: formatDate(device.createdAt, i18n.language) })}
              </p>
              {self && confirmSelf ? (
                <div className="confirm">
                  <p>{t("devices.removeSelfConfirm")}</p>
                  <div className="button-row">
                    <button type="button" className="button button-danger" onClick={() => void removeSelf(device.id)}>
                      {t("devices.removeSelfYes")}
                    </button>
                    <button type="button" className="button button-secondary" onClick={() => setConfirmSelf(false)}>
                      {t("cards.removeNo")}
                    </button>
                  </div>
                </div>
              ) : (
                <button
                  type="button"
                  className="button button-text"
                  onClick={() => (self ? setConfirmSelf(true) : setRemoving(device))}
                  aria-label={t("devices.removeLabel", { name: device.name })}
                >
                  {t("devices.remove")}
                </button>
              )}
            </li>
          );
        })}
      </ul>
    </Screen>
  );
}
