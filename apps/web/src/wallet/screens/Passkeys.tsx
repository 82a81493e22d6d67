/**
 * Settings → Passkeys, `/wallet/settings/passkeys`: the payer's passkeys (this device's marked), adding one (the PIN,
 * then the device's fingerprint, face or screen lock) and removing one. It says plainly which cards a passkey pays
 * (those added on this device after it: the issuer checks a passkey against the ones bound at enrollment), and where
 * passkeys cannot work at all (an IP-address wallet, a browser without WebAuthn) it says so instead of offering them.
 */
import type { Passkey } from "@mpay/wallet";
import { sendSignal } from "@simplewebauthn/browser";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { errorMessage } from "../errors.ts";
import { createPasskey, forgetPasskey, livePasskeysOnThisDevice, passkeySupport } from "../passkeys.ts";
import { walletRuntime } from "../runtime.ts";
import { formatDate, Loading, Notice, Screen, useLoad } from "../ui.tsx";
import { PinAsk } from "./PinAsk.tsx";

export function Passkeys() {
  const { t, i18n } = useTranslation("wallet");
  const support = passkeySupport();
  const [adding, setAdding] = useState(false);
  const [removing, setRemoving] = useState<string | undefined>();
  const [message, setMessage] = useState<{ text: string; tone: "success" | "error" } | undefined>();
  const passkeys = useLoad(async () => {
    const { client, keyStore } = walletRuntime();
    const all = await client.passkeys.list();
    const mine = new Set((await livePasskeysOnThisDevice(keyStore, all)).map((p) => p.id));
    return all.filter((p) => p.status === "active").map((p) => ({ ...p, onThisDevice: mine.has(p.id) }));
  }, "passkeys");

  if (adding)
    return (
      <Screen title={t("passkeys.add")}>
        <PinAsk
          title={t("passkeys.pin")}
          description={t("passkeys.pinHint")}
          run={async (pin) => {
            const { wallet, keyStore } = walletRuntime();
            const ceremony = createPasskey(keyStore);
            await ceremony.remember(await wallet.addPasskey(pin, ceremony.create));
          }}
          onDone={() => {
            setAdding(false);
            setMessage({ text: t("passkeys.added"), tone: "success" });
            passkeys.reload();
          }}
          onCancel={() => setAdding(false)}
        />
      </Screen>
    );

  const remove = async (passkey: Passkey & { onThisDevice: boolean }) => {
    const { client, keyStore } = walletRuntime();
    try {
      await client.passkeys.revoke(passkey.id);
      if (passkey.onThisDevice) {
        await forgetPasskey(keyStore, passkey.id);
        // Best effort: asks the browser to drop it from the device's passkey list too (the Signal API; where the
        // browser lacks it, the passkey stays listed on the device but MPay refuses it).
        await sendSignal({ signalName: "unknownCredential", rpID: location.hostname, credentialID: passkey.id }).catch(
          () => undefined,
        );
      }
      setMessage({ text: t("passkeys.removed"), tone: "success" });
    } catch (cause) {
      setMessage({ text: errorMessage(cause, t), tone: "error" });
    }
    setRemoving(undefined);
    passkeys.reload();
  };

  return (
    <Screen title={t("passkeys.title")} back="/wallet/settings">
      <Notice message={message?.text} tone={message?.tone ?? "info"} />
      <p>{t("passkeys.lead")}</p>
      {support !== "available" && (
        <section className="card" aria-labelledby="passkeys-unavailable">
          <h2 id="passkeys-unavailable" className="item-title">
            {t("passkeys.unavailable")}
          </h2>
          <p>
            {support === "ip_address"
              ? t("passkeys.ipAddress", { host: location.hostname })
              : t("passkeys.unsupported")}
          </p>
        </section>
      )}
      {passkeys.loading && !passkeys.data && <Loading />}
      <Notice message={passkeys.error} tone="error" />
      {passkeys.data?.length === 0 && <p className="muted">{t("passkeys.none")}</p>}
      {passkeys.data !== undefined && passkeys.data.length > 0 && (
        <ul className="list">
          {passkeys.data.map((passkey) => {
            const added = formatDate(passkey.createdAt, i18n.language);
            return (
              <li key={passkey.id} className="card">
                <h2 className="item-title">
                  {passkey.onThisDevice ? t("passkeys.thisDevice") : t("passkeys.otherDevice")}
                </h2>
                <p className="muted">{t("passkeys.since", { date: added })}</p>
                {removing === passkey.id ? (
                  <div className="confirm">
                    <p>{t("passkeys.removeConfirm")}</p>
                    <div className="button-row">
                      <button type="button" className="button button-danger" onClick={() => void remove(passkey)}>
                        {t("passkeys.removeYes")}
                      </button>
                      <button type="button" className="button button-secondary" onClick={() => setRemoving(undefined)}>
                        {t("passkeys.keep")}
                      </button>
                    </div>
                  </div>
                ) : (
                  <button
                    type="button"
                    className="button button-text"
                    onClick={() => setRemoving(passkey.id)}
                    aria-label={t("passkeys.removeLabel", { date: added })}
                  >
                    {t("passkeys.remove")}
                  </button>
                )}
              </li>
            );
          })}
        </ul>
      )}
      {support === "available" && (
        <button type="button" className="button button-primary button-block" onClick={() => setAdding(true)}>
          {t("passkeys.add")}
        </button>
      )}
      <p className="muted small">{t("passkeys.cardsNote")}</p>
    </Screen>
  );
}
