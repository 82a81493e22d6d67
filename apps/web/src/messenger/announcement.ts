/**
 * MPay's official messages as the reader reads them (issue 9: Korean and English on every screen): an announcement
 * whose facts came with it (`params`, @mpay/protocol announcements.ts) is written here in the reader's language,
 * with amounts as the reader expects them and times in the reader's zone; any other message (stored before params
 * existed, or a kind this app does not know yet) shows the text the pay server wrote. Button labels follow the
 * button's action, so an older message's English labels read in Korean too; an unknown action keeps its label.
 */
import { type AnnouncementView, announcementOf, type OfficialAction, type OfficialMessage } from "@mpay/protocol";
import type { TFunction } from "i18next";
import { formatAmount, formatDateTime, languageOf } from "../shell/format.ts";

/** i18next's `t` for the `messenger` namespace (texts.ts registers announcement-texts.ts there). */
export type AnnouncementTranslate = TFunction<"messenger">;

export interface ReadableMessage {
  text: string;
  actions: OfficialAction[];
}

const ACTION_LABELS: Array<[RegExp, string]> = [
  [/^mpay:pay\//, "announcement.action.pay"],
  [/^mpay:cancel-pending-change\//, "announcement.action.cancel"],
  [/^mpay:remove-card\//, "announcement.action.removeCard"],
  [/^mpay:open\/devices$/, "announcement.action.devices"],
  [/^mpay:receipt\//, "announcement.action.receipt"],
];

function label(t: AnnouncementTranslate, button: OfficialAction): string {
  const key = ACTION_LABELS.find(([pattern]) => pattern.test(button.action))?.[1];
  return key ? t(key) : button.label;
}

function sentence(view: AnnouncementView, t: AnnouncementTranslate, lang: string, zone: Zone): string {
  const language = languageOf(lang);
  const device = (name: string) => (name === "" ? t("announcement.deviceUnnamed") : t("announcement.device", { name }));
  const date = (iso: string) => formatDateTime(iso, language, zone);
  switch (view.kind) {
    case "payment_request": {
      const p = view.params;
      const facts = {
        merchant: p.merchantName || t("announcement.merchantUnnamed"),
        item: p.itemName,
        amount: formatAmount(p.amount, p.currency, language),
        code: p.pairingCode,
      };
      return t(p.itemName ? "announcement.payment_request" : "announcement.payment_request_noItem", facts);
    }
    case "payment_receipt": {
      const p = view.params;
      const facts = {
        merchant: p.merchantName || t("announcement.merchantUnnamed"),
        item: p.itemName,
        amount: formatAmount(p.amount, p.currency, language),
        brand: t(`announcement.brand.${p.brand}`),
        last4: p.last4,
      };
      return t(p.itemName ? "announcement.payment_receipt" : "announcement.payment_receipt_noItem", facts);
    }
    case "payment_refunded":
      return t("announcement.payment_refunded", {
        merchant: view.params.merchantName || t("announcement.merchantUnnamed"),
        amount: formatAmount(view.params.amount, view.params.currency, language),
        brand: t(`announcement.brand.${view.params.brand}`),
        last4: view.params.last4,
      });
    case "device_pending":
    case "recovery_pending":
      return t(`announcement.${view.kind}`, {
        device: device(view.params.deviceName),
        date: date(view.params.activatesAt),
      });
    case "recovery_completed": {
      const count = view.params.revokedDevices;
      const signedOut = count === 0 ? t("announcement.signedOutNone") : t("announcement.signedOut", { count });
      return t("announcement.recovery_completed", { device: device(view.params.deviceName), signedOut });
    }
    case "pin_reset_pending":
      return t("announcement.pin_reset_pending", { date: date(view.params.activatesAt) });
    case "pin_reset_applied":
      return t("announcement.pin_reset_applied");
    case "pin_changed":
      return t("announcement.pin_changed", { date: date(view.params.previousPinUntil) });
    case "card_enrolled":
      return t("announcement.card_enrolled", {
        last4: view.params.last4,
        brand: t(`announcement.brand.${view.params.brand}`),
        device: device(view.params.deviceName),
      });
    case "device_revoked": {
      const text = t("announcement.device_revoked", { device: device(view.params.deviceName) });
      // The English label can open the sentence ("a device with no name" → "A device …").
      return text.charAt(0).toUpperCase() + text.slice(1);
    }
    case "change_canceled":
      return t("announcement.change_canceled", { change: t(`announcement.change.${view.params.change}`) });
  }
}

/** The reader's time zone and today (tests set both; the app takes the browser's zone and clock). */
export interface Zone {
  timeZone?: string;
  now?: Date;
}

/** The message in the reader's language (`lang`, i18next's). */
export function readableMessage(
  message: Pick<OfficialMessage, "kind" | "text" | "actions" | "params">,
  t: AnnouncementTranslate,
  lang: string,
  zone: Zone = {},
): ReadableMessage {
  const view = announcementOf(message);
  return {
    text: view ? sentence(view, t, lang, zone) : message.text,
    actions: message.actions.map((button) => ({ action: button.action, label: label(t, button) })),
  };
}
