import { useEffect, useRef } from "react";
import { useTranslation } from "react-i18next";
import type { Checkout } from "./api.ts";
import { phaseOf, safeRedirect } from "./model.ts";

/** How long the result stays on screen before the page returns to the merchant. */
export const RESULT_MS = 2500;

/**
 * A final payment: what happened as a heading that takes the focus, then, after a moment, back to the merchant's
 * returnUrl or cancelUrl (the pay server adds the payment's id and status). The reason and where the page goes
 * are said by the page's live status line; the link under it goes back at once.
 */
export function CheckoutResult({ checkout }: { checkout: Checkout }) {
  const { t } = useTranslation("checkout");
  const heading = useRef<HTMLHeadingElement>(null);
  const succeeded = phaseOf(checkout.status) === "succeeded";
  const redirect = safeRedirect(checkout.redirectUrl);

  useEffect(() => {
    heading.current?.focus();
    if (!redirect) return;
    const timer = setTimeout(() => location.assign(redirect), RESULT_MS);
    return () => clearTimeout(timer);
  }, [redirect]);

  return (
    <section
      className={`co-result ${succeeded ? "co-result-success" : "co-result-failure"}`}
      aria-labelledby="checkout-result"
    >
      <span className="co-result-icon" aria-hidden="true">
        {succeeded ? "✓" : "!"}
      </span>
      <h2 id="checkout-result" ref={heading} tabIndex={-1} className="co-result-title">
        {succeeded ? t("succeeded") : t("failedTitle")}
      </h2>
    </section>
  );
}
