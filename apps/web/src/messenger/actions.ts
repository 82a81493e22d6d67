/**
 * Where an official message's button leads. Buttons carry `mpay:<path>` actions (the messenger refuses any other
 * scheme for MPay's messages); the app maps them onto the wallet's own screens and never treats one as a URL.
 */
const PAYMENT_ID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * `mpay:pay/<paymentId>` → the pay sheet; `mpay:receipt/<paymentId>` → the receipts; `mpay:remove-card/<id>` → the
 * cards; `mpay:open/devices` → the devices; `mpay:cancel-pending-change/<id>` and any other `mpay:` action → the
 * pending changes (where the payer cancels with the PIN); anything else → null.
 */
export function walletPathOf(action: string): string | null {
  if (!action.startsWith("mpay:")) return null;
  const path = action.slice("mpay:".length);
  const pay = /^pay\/(.+)$/.exec(path);
  if (pay?.[1] !== undefined) return PAYMENT_ID.test(pay[1]) ? `/wallet/pay/${pay[1]}` : null;
  if (path.startsWith("receipt/")) return "/wallet/history";
  if (path.startsWith("remove-card/")) return "/wallet/cards";
  if (path === "open/devices") return "/wallet/devices";
  return "/wallet/pending";
}

/** The wallet's pay sheet for a payment id from `/open/pay/:paymentId` (the checkout's QR), or null if malformed. */
export function payPathOf(paymentId: string): string | null {
  return PAYMENT_ID.test(paymentId) ? `/wallet/pay/${paymentId}` : null;
}
