/**
 * Korean and English on every screen (Korean when the browser asks for it first). Each feature keeps its own
 * texts in `<feature>/texts.ts` and registers them as one i18next namespace, so features never edit a shared file.
 */
import i18next from "i18next";
import { initReactI18next } from "react-i18next";
import { formatAmount as formatAmountIn, type Language } from "./format.ts";

export type { Language } from "./format.ts";
export type Texts = Record<string, string>;

/** The browser's first preferred language that we have, else English. */
export function preferredLanguage(languages: readonly string[] = navigator.languages): Language {
  for (const tag of languages) {
    const base = tag.toLowerCase().split("-")[0];
    if (base === "ko" || base === "en") return base;
  }
  return "en";
}

const language = preferredLanguage();
void i18next.use(initReactI18next).init({
  lng: language,
  fallbackLng: "en",
  resources: {},
  interpolation: { escapeValue: false }, // React escapes
  returnNull: false,
});
document.documentElement.lang = language;

/** Registers a feature's texts under its namespace (`checkout`, `wallet`, `messenger`, …). */
export function registerTexts(namespace: string, texts: { en: Texts; ko: Texts }): void {
  i18next.addResourceBundle("en", namespace, texts.en, true, true);
  i18next.addResourceBundle("ko", namespace, texts.ko, true, true);
}

/** Amounts as readers expect them: 35,000원 in Korean, ₩35,000 in English (format.ts), in the page's language. */
export function formatAmount(amount: number, currency: string, lang: Language = i18next.language as Language): string {
  return formatAmountIn(amount, currency, lang);
}
