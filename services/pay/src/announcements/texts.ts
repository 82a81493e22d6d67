/**
 * Every word MPay says in an announcement's plain text, in one place (English; the payment request also in Korean,
 * first, as the messenger's home market reads it), with the buttons each kind offers, and the announcement's facts
 * as `params` (@mpay/protocol announcements.ts): the messenger app writes the sentence from those in the reader's
 * language and time zone; the text is for any other client, and says times in UTC. A button's action is for the wallet in the
 * messenger app (the `mpay:` scheme), never a link:
 *   mpay:pay/<paymentId>              open the wallet's pay sheet for a payment a checkout pushed to this phone
 *   mpay:cancel-pending-change/<id>   cancel a pending device, recovery or PIN reset (the wallet asks for the PIN)
 *   mpay:remove-card/<cardId>         remove a card
 *   mpay:open/devices                 show the payer's devices
 *   mpay:receipt/<paymentId>          show the payer's receipts (a payment they approved)
 *
 * Device names are free text in a notice, and whoever binds a device chooses it (a thief too), inside a message
 * that speaks with MPay's voice: controls are dropped, links and card-number-like digit runs are masked, and the
 * name is cut short and quoted. A payment request's merchant and item names get the same cleaning.
 */
import {
  type AnnouncementParams,
  CURRENCIES,
  isCurrency,
  type OfficialAction,
  type OfficialParams,
  PAIRING_CODE_PATTERN,
} from "@mpay/protocol";
import type {
  Announcement,
  CardBrand,
  ChangeCanceled,
  PaymentReceipt,
  PaymentRefunded,
  PaymentRequest,
} from "./kinds.ts";

export interface AnnouncementMessage {
  text: string;
  actions: OfficialAction[];
  /** The facts the messenger app renders in the reader's language (the protocol's schema for this kind). */
  params: OfficialParams;
}

const NAME_MAX = 40;
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;
const LINKS = /\b[a-z][a-z0-9+.-]*:\/\/\S*|\bwww\.\S*/gi;
/** Eight or more digits, possibly split by spaces or dashes: never echo what could be a card or phone number. */
const DIGIT_RUNS = /\d(?:[\s-]?\d){7,}/g;
/** Ids end up in actions: prefixed ids only (`dev_…`, `prs_…`, `card_…`), which also keeps anything else out. */
const ID = /^[a-z]{2,5}_[0-9A-Za-z]{10,40}$/;

const BRANDS: Record<CardBrand, string> = {
  visa: "Visa",
  mastercard: "Mastercard",
  amex: "American Express",
  local: "local",
};
const CHANGES: Record<ChangeCanceled["change"], string> = {
  device: "new device",
  recovery: "account recovery",
  pin_reset: "PIN reset",
  card: "new card",
};

const UTC = new Intl.DateTimeFormat("en-GB", {
  timeZone: "UTC",
  day: "numeric",
  month: "short",
  year: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23",
});

const actions = {
  pay: (paymentId: string): OfficialAction => ({ label: "Pay", action: `mpay:pay/${paymentId}` }),
  cancel: (id: string): OfficialAction => ({ label: "Not me — cancel", action: `mpay:cancel-pending-change/${id}` }),
  removeCard: (id: string): OfficialAction => ({ label: "Not me — remove card", action: `mpay:remove-card/${id}` }),
  reviewDevices: (): OfficialAction => ({ label: "Review devices", action: "mpay:open/devices" }),
  receipt: (paymentId: string): OfficialAction => ({ label: "Receipt", action: `mpay:receipt/${paymentId}` }),
};

/** Free text as a notice may show it: controls dropped, links and long digit runs masked, cut to `max`; "" if nothing is left. */
function cleanText(text: string, max = NAME_MAX): string {
  const cleaned = text
    .normalize("NFC")
    .replace(CONTROLS, "")
    .replace(LINKS, "[link]")
    .replace(DIGIT_RUNS, "••••")
    .replace(/\s+/g, " ")
    .trim();
  return [...cleaned].length > max ? `${[...cleaned].slice(0, max - 1).join("")}…` : cleaned;
}

/** A device's name as a notice may show it: quoted, cleaned, short. */
export function deviceLabel(name: string): string {
  const cleaned = cleanText(name);
  return cleaned === "" ? "a device with no name" : `"${cleaned}"`;
}

/** The facts of a kind, typed by the protocol's schema so the sender and the reader's app cannot drift apart. */
function facts<K extends Announcement["kind"]>(_kind: K, params: AnnouncementParams<K>): OfficialParams {
  return params;
}

/** Intl formatters are costly to build (the pay benchmark saw them per receipt): one per locale and currency. */
const formats = new Map<string, Intl.NumberFormat>();
const PLAIN_EN_US = new Intl.NumberFormat("en-US");

function currencyFormat(locale: "en-US" | "ko-KR", currency: string, exponent: number): Intl.NumberFormat {
  const key = `${locale}|${currency}`;
  let format = formats.get(key);
  if (!format) {
    format = new Intl.NumberFormat(locale, {
      style: "currency",
      currency,
      minimumFractionDigits: exponent,
      maximumFractionDigits: exponent,
    });
    formats.set(key, format);
  }
  return format;
}

/**
 * An amount in both readings the message needs: Korean (`35,000원`) and the international form with the currency's
 * sign (`₩35,000`), from integer minor units of a currency MPay supports.
 */
export function amountTexts(amount: number, currency: string): { ko: string; en: string } {
  if (!isCurrency(currency)) throw new TypeError("currency must be one MPay supports");
  if (!Number.isSafeInteger(amount) || amount <= 0) throw new TypeError("amount must be positive minor units");
  const exponent = CURRENCIES[currency].exponent;
  const major = amount / 10 ** exponent;
  const en = currencyFormat("en-US", currency, exponent).format(major);
  if (currency === "KRW") {
    const plain = PLAIN_EN_US.format(major);
    return { ko: `${plain}원`, en: `${plain}원 (${en})` };
  }
  const ko = currencyFormat("ko-KR", currency, exponent).format(major);
  return { ko, en };
}

function paymentRequestMessage(a: PaymentRequest): AnnouncementMessage {
  id(a.paymentId, "paymentId");
  if (!PAIRING_CODE_PATTERN.test(a.pairingCode)) throw new TypeError("pairingCode must be a pairing code");
  const merchant = cleanText(a.merchantName) || "A merchant";
  const item = cleanText(a.itemName, 60);
  const amount = amountTexts(a.amount, a.currency);
  const ko = item
    ? `${merchant}에서 "${item}" ${amount.ko} 결제를 요청했습니다. 확인 코드 ${a.pairingCode}.`
    : `${merchant}에서 ${amount.ko} 결제를 요청했습니다. 확인 코드 ${a.pairingCode}.`;
  const en = item
    ? `${merchant} asks ${amount.en} for "${item}". Code ${a.pairingCode}.`
    : `${merchant} asks ${amount.en}. Code ${a.pairingCode}.`;
  return {
    text: `${ko}\n${en}`,
    actions: [actions.pay(a.paymentId)],
    params: facts("payment_request", {
      merchantName: cleanText(a.merchantName),
      itemName: item,
      amount: a.amount,
      currency: a.currency,
      pairingCode: a.pairingCode,
    }),
  };
}

/** The card a receipt names: brand and last four, checked. */
function cardOf(a: { brand: CardBrand; last4: string }): string {
  if (!/^\d{4}$/.test(a.last4)) throw new TypeError("last4 must be the card's last four digits");
  const brand = BRANDS[a.brand];
  if (!brand) throw new TypeError("brand must be a known card brand");
  return `${brand} •••• ${a.last4}`;
}

function paymentReceiptMessage(a: PaymentReceipt): AnnouncementMessage {
  id(a.paymentId, "paymentId");
  const merchant = cleanText(a.merchantName) || "A merchant";
  const item = cleanText(a.itemName, 60);
  const amount = amountTexts(a.amount, a.currency);
  const card = cardOf(a);
  return {
    text: `Paid ${amount.en} to ${merchant}${item ? ` for "${item}"` : ""} with ${card}.`,
    actions: [actions.receipt(a.paymentId)],
    params: facts("payment_receipt", {
      merchantName: cleanText(a.merchantName),
      itemName: item,
      amount: a.amount,
      currency: a.currency,
      brand: a.brand,
      last4: a.last4,
    }),
  };
}

function paymentRefundedMessage(a: PaymentRefunded): AnnouncementMessage {
  id(a.paymentId, "paymentId");
  const merchant = cleanText(a.merchantName) || "A merchant";
  const amount = amountTexts(a.amount, a.currency);
  return {
    text: `${merchant} refunded ${amount.en} to ${cardOf(a)}.`,
    actions: [actions.receipt(a.paymentId)],
    params: facts("payment_refunded", {
      merchantName: cleanText(a.merchantName),
      amount: a.amount,
      currency: a.currency,
      brand: a.brand,
      last4: a.last4,
    }),
  };
}

function when(date: Date): string {
  return `${UTC.format(valid(date))} UTC`;
}

function valid(date: Date): Date {
  if (!(date instanceof Date) || Number.isNaN(date.getTime()))
    throw new TypeError("an announcement's time must be a valid Date");
  return date;
}

const iso = (date: Date): string => valid(date).toISOString();
const cleanName = (name: string): string => cleanText(name);

function id(value: string, field: string): string {
  if (!ID.test(value)) throw new TypeError(`an announcement's ${field} must be a prefixed id`);
  return value;
}

function devicesSignedOut(count: number): string {
  if (!Number.isSafeInteger(count) || count < 0) throw new TypeError("revokedDevices must be a whole number");
  if (count === 0) return "No other device had access.";
  return count === 1
    ? "1 other device was signed out and can no longer pay."
    : `${count} other devices were signed out and can no longer pay.`;
}

/** The message of an announcement; throws a TypeError for facts that do not fit (a caller's bug, before any write). */
export function announcementMessage(a: Announcement): AnnouncementMessage {
  switch (a.kind) {
    case "payment_request":
      return paymentRequestMessage(a);
    case "payment_receipt":
      return paymentReceiptMessage(a);
    case "payment_refunded":
      return paymentRefundedMessage(a);
    case "device_pending":
      return {
        text: `A new device, ${deviceLabel(a.deviceName)}, was added to your MPay account. It can pay from ${when(a.activatesAt)}. If this wasn't you, cancel it before then.`,
        actions: [actions.cancel(id(a.deviceId, "deviceId"))],
        params: facts("device_pending", { deviceName: cleanName(a.deviceName), activatesAt: iso(a.activatesAt) }),
      };
    case "recovery_pending":
      return {
        text: `Your MPay account is being recovered on a new device, ${deviceLabel(a.deviceName)}. At ${when(a.activatesAt)} every other device will be signed out of MPay and can no longer pay. If this wasn't you, cancel it with your PIN or your card.`,
        actions: [actions.cancel(id(a.recoveryId, "recoveryId"))],
        params: facts("recovery_pending", { deviceName: cleanName(a.deviceName), activatesAt: iso(a.activatesAt) }),
      };
    case "recovery_completed":
      id(a.recoveryId, "recoveryId");
      return {
        text: `Your MPay account was recovered on ${deviceLabel(a.deviceName)}. ${devicesSignedOut(a.revokedDevices)}`,
        actions: [actions.reviewDevices()],
        params: facts("recovery_completed", {
          deviceName: cleanName(a.deviceName),
          revokedDevices: a.revokedDevices,
        }),
      };
    case "pin_reset_pending":
      return {
        text: `A reset of your MPay PIN was requested. The new PIN takes effect at ${when(a.activatesAt)}. If this wasn't you, cancel it with your current PIN on any of your devices.`,
        actions: [actions.cancel(id(a.resetId, "resetId"))],
        params: facts("pin_reset_pending", { activatesAt: iso(a.activatesAt) }),
      };
    case "pin_reset_applied":
      id(a.resetId, "resetId");
      return {
        text: "Your MPay PIN was reset. Use the new PIN from now on. If this wasn't you, recover your account with your card.",
        actions: [actions.reviewDevices()],
        params: facts("pin_reset_applied", {}),
      };
    case "pin_changed":
      return {
        text: `Your MPay PIN was changed. If this wasn't you, recover your account on your phone with your card and your old PIN before ${when(a.previousPinUntil)}: that signs every other device out.`,
        actions: [actions.reviewDevices()],
        params: facts("pin_changed", { previousPinUntil: iso(a.previousPinUntil) }),
      };
    case "card_enrolled": {
      if (!/^\d{4}$/.test(a.last4)) throw new TypeError("last4 must be the card's last four digits");
      const brand = BRANDS[a.brand];
      if (!brand) throw new TypeError("brand must be a known card brand");
      return {
        text: `A ${brand} card ending in ${a.last4} was added to MPay on ${deviceLabel(a.deviceName)}. If this wasn't you, remove it.`,
        actions: [actions.removeCard(id(a.cardId, "cardId"))],
        params: facts("card_enrolled", { brand: a.brand, last4: a.last4, deviceName: cleanName(a.deviceName) }),
      };
    }
    case "device_revoked":
      id(a.deviceId, "deviceId");
      return {
        text: `${capitalized(deviceLabel(a.deviceName))} was removed from your MPay account and can no longer pay.`,
        actions: [actions.reviewDevices()],
        params: facts("device_revoked", { deviceName: cleanName(a.deviceName) }),
      };
    case "change_canceled": {
      id(a.changeId, "changeId");
      const change = CHANGES[a.change];
      if (!change) throw new TypeError("change must name the kind of pending change");
      return {
        text: `The pending ${change} was canceled. Your MPay account stays as it was.`,
        actions: [],
        params: facts("change_canceled", { change: a.change }),
      };
    }
  }
}

function capitalized(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
