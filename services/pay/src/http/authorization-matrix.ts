/**
 * Who may call what (issue 12): every route the pay server registers × every kind of caller, and what the caller
 * gets — "allowed" (a 2xx or 3xx), or the exact status and code of the refusal. authorization-matrix.test.ts
 * checks each cell against the running server, calling with merchant A's real objects in the path (a payment,
 * refund, webhook endpoint, event) and an empty JSON body, and fails when a route is missing from this table.
 *
 * Reading a row: the payer's routes read the session before anything else (payers/session.ts), so a caller without
 * one gets 401 and learns nothing of the body's shape; only a payer's own session reaches validation (the empty
 * body's 400). The payer's sign-in steps, the hosted checkout's routes (the payment id is the capability) and the
 * public keys take no credential; a 404 for another merchant's key is the refusal (A's objects do not exist for it).
 */
export const CALLERS = [
  "none",
  "garbageKey",
  "publishableKey",
  "otherMerchantKey",
  "payerSession",
  "otherPayerSession",
  "supportUser",
  "staff",
] as const;
export type Caller = (typeof CALLERS)[number];
/** "allowed", or `<status> <code>` of the refusal. */
export type Outcome = "allowed" | `${number} ${string}`;

const ok: Outcome = "allowed";
/** no Authorization header on a merchant route */
const noKey: Outcome = "401 api_key_missing";
/** a token the merchant routes do not know */
const badKey: Outcome = "401 api_key_invalid";
/** a publishable key where a secret key is needed */
const pkRefused: Outcome = "403 secret_key_required";
/** the empty body refused: by a route without a credential, or once the credential let the caller in */
const body400: Outcome = "400 parameter_missing";
/** the support role may only read */
const denied: Outcome = "403 permission_denied";
/** not this caller's object */
const missing: Outcome = "404 resource_missing";
/** not a payer session */
const noPayer: Outcome = "401 payer_session_invalid";
/** not this payer's payment */
const noPayment: Outcome = "404 payment_not_found";
/** no card issuer runs in the test (allowed, then the issuer is down) */
const noIssuer: Outcome = "503 issuer_unavailable";
/** a dashboard user's own route, refused to an API key */
const userOnly: Outcome = "403 dashboard_session_required";
/** not a staff session (the console's routes) */
const noStaff: Outcome = "401 staff_session_invalid";

/** One route's outcomes, in the order of CALLERS. */
function row(...outcomes: Outcome[]): Readonly<Record<Caller, Outcome>> {
  return Object.fromEntries(CALLERS.map((caller, i) => [caller, outcomes[i] ?? ok])) as Record<Caller, Outcome>;
}

export const AUTHORIZATION_MATRIX: Readonly<Record<string, Readonly<Record<Caller, Outcome>>>> = {
  "GET /healthz": row(ok, ok, ok, ok, ok, ok, ok, ok),
  "GET /readyz": row(ok, ok, ok, ok, ok, ok, ok, ok),
  "GET /metrics": row(ok, ok, ok, ok, ok, ok, ok, ok),
  "GET /openapi.json": row(ok, ok, ok, ok, ok, ok, ok, ok),
  "POST /v1/payments": row(noKey, badKey, pkRefused, body400, badKey, badKey, denied, badKey),
  "GET /v1/payments": row(noKey, badKey, pkRefused, ok, badKey, badKey, ok, badKey),
  "GET /v1/payments/export.csv": row(noKey, badKey, pkRefused, ok, badKey, badKey, ok, badKey),
  "GET /v1/payments/:id": row(noKey, badKey, pkRefused, missing, badKey, badKey, ok, badKey),
  "POST /v1/payments/:id/capture": row(noKey, badKey, pkRefused, missing, badKey, badKey, denied, badKey),
  "POST /v1/payments/:id/cancel": row(noKey, badKey, pkRefused, missing, badKey, badKey, denied, badKey),
  "POST /v1/payments/:id/refunds": row(noKey, badKey, pkRefused, missing, badKey, badKey, denied, badKey),
  "GET /v1/payments/:id/refunds": row(noKey, badKey, pkRefused, missing, badKey, badKey, ok, badKey),
  "GET /v1/payments/:id/timeline": row(noKey, badKey, pkRefused, missing, badKey, badKey, ok, badKey),
  "POST /v1/payer/auth/start": row(body400, body400, body400, body400, body400, body400, body400, body400),
  "GET /v1/payer/auth/callback": row(ok, ok, ok, ok, ok, ok, ok, ok),
  "POST /v1/payer/auth/exchange": row(body400, body400, body400, body400, body400, body400, body400, body400),
  "POST /v1/payer/approval-challenges/:id/approve": row(
    noPayer,
    noPayer,
    noPayer,
    noPayer,
    body400,
    body400,
    noPayer,
    noPayer,
  ),
  "POST /v1/payer/approvals/:id/authorize": row(noPayer, noPayer, noPayer, noPayer, body400, body400, noPayer, noPayer),
  "GET /v1/payer/me": row(noPayer, noPayer, noPayer, noPayer, ok, ok, noPayer, noPayer),
  "GET /v1/payer/mandates": row(noPayer, noPayer, noPayer, noPayer, ok, ok, noPayer, noPayer),
  "POST /v1/payer/mandates/:id/revoke": row(noPayer, noPayer, noPayer, noPayer, missing, missing, noPayer, noPayer),
  "POST /v1/payer/devices": row(noPayer, noPayer, noPayer, noPayer, body400, body400, noPayer, noPayer),
  "GET /v1/payer/devices": row(noPayer, noPayer, noPayer, noPayer, ok, ok, noPayer, noPayer),
  "POST /v1/payer/devices/:id/revoke": row(noPayer, noPayer, noPayer, noPayer, missing, missing, noPayer, noPayer),
  "POST /v1/payer/devices/:id/cancel": row(noPayer, noPayer, noPayer, noPayer, missing, missing, noPayer, noPayer),
  "POST /v1/payer/statement-nonces": row(noPayer, noPayer, noPayer, noPayer, ok, ok, noPayer, noPayer),
  "GET /v1/payer/pin": row(noPayer, noPayer, noPayer, noPayer, ok, ok, noPayer, noPayer),
  "POST /v1/payer/pin": row(noPayer, noPayer, noPayer, noPayer, body400, body400, noPayer, noPayer),
  "POST /v1/payer/pin/registration": row(noPayer, noPayer, noPayer, noPayer, body400, body400, noPayer, noPayer),
  "POST /v1/payer/pin/resets": row(noPayer, noPayer, noPayer, noPayer, body400, body400, noPayer, noPayer),
  "POST /v1/payer/pin/resets/:id/verify": row(noPayer, noPayer, noPayer, noPayer, body400, body400, noPayer, noPayer),
  "POST /v1/payer/pin/change": row(noPayer, noPayer, noPayer, noPayer, body400, body400, noPayer, noPayer),
  "POST /v1/payer/pin/login": row(noPayer, noPayer, noPayer, noPayer, body400, body400, noPayer, noPayer),
  "POST /v1/payer/pin/login/finish": row(noPayer, noPayer, noPayer, noPayer, body400, body400, noPayer, noPayer),
  "GET /v1/payer/payments": row(noPayer, noPayer, noPayer, noPayer, ok, ok, noPayer, noPayer),
  "GET /v1/payer/payments/:id": row(noPayer, noPayer, noPayer, noPayer, noPayment, noPayment, noPayer, noPayer),
  "POST /v1/payer/payments/:id/approval-challenges": row(
    noPayer,
    noPayer,
    noPayer,
    noPayer,
    body400,
    body400,
    noPayer,
    noPayer,
  ),
  "POST /v1/payer/passkeys": row(noPayer, noPayer, noPayer, noPayer, body400, body400, noPayer, noPayer),
  "GET /v1/payer/passkeys": row(noPayer, noPayer, noPayer, noPayer, ok, ok, noPayer, noPayer),
  "POST /v1/payer/passkeys/registration-options": row(
    noPayer,
    noPayer,
    noPayer,
    noPayer,
    body400,
    body400,
    noPayer,
    noPayer,
  ),
  "POST /v1/payer/passkeys/:id/revoke": row(noPayer, noPayer, noPayer, noPayer, missing, missing, noPayer, noPayer),
  "GET /v1/payer/pending-changes": row(noPayer, noPayer, noPayer, noPayer, ok, ok, noPayer, noPayer),
  "POST /v1/payer/pending-changes/:id/cancel": row(
    noPayer,
    noPayer,
    noPayer,
    noPayer,
    body400,
    body400,
    noPayer,
    noPayer,
  ),
  "GET /v1/payer/issuers": row(noPayer, noPayer, noPayer, noPayer, noIssuer, noIssuer, noPayer, noPayer),
  "GET /v1/payer/cards": row(noPayer, noPayer, noPayer, noPayer, ok, ok, noPayer, noPayer),
  "POST /v1/payer/cards/enrollments": row(noPayer, noPayer, noPayer, noPayer, body400, body400, noPayer, noPayer),
  "POST /v1/payer/cards/enrollments/:id/verify": row(
    noPayer,
    noPayer,
    noPayer,
    noPayer,
    body400,
    body400,
    noPayer,
    noPayer,
  ),
  "POST /v1/payer/cards/:id/records": row(noPayer, noPayer, noPayer, noPayer, body400, body400, noPayer, noPayer),
  "POST /v1/payer/cards/:id/remove": row(noPayer, noPayer, noPayer, noPayer, body400, body400, noPayer, noPayer),
  "POST /v1/payer/recoveries": row(noPayer, noPayer, noPayer, noPayer, body400, body400, noPayer, noPayer),
  "POST /v1/payer/recoveries/:id/verify": row(noPayer, noPayer, noPayer, noPayer, body400, body400, noPayer, noPayer),
  "GET /v1/mandates/:id": row(noKey, badKey, pkRefused, missing, badKey, badKey, missing, badKey),
  "GET /v1/refunds/:id": row(noKey, badKey, pkRefused, missing, badKey, badKey, ok, badKey),
  "GET /v1/reports/daily": row(noKey, badKey, pkRefused, ok, badKey, badKey, ok, badKey),
  "POST /v1/webhook-endpoints": row(noKey, badKey, pkRefused, body400, badKey, badKey, denied, badKey),
  "GET /v1/webhook-endpoints": row(noKey, badKey, pkRefused, ok, badKey, badKey, ok, badKey),
  "POST /v1/webhook-endpoints/:id": row(noKey, badKey, pkRefused, missing, badKey, badKey, denied, badKey),
  "GET /v1/webhook-endpoints/:id": row(noKey, badKey, pkRefused, missing, badKey, badKey, ok, badKey),
  "DELETE /v1/webhook-endpoints/:id": row(noKey, badKey, pkRefused, missing, badKey, badKey, denied, badKey),
  "POST /v1/webhook-endpoints/:id/enable": row(noKey, badKey, pkRefused, missing, badKey, badKey, denied, badKey),
  "POST /v1/webhook-endpoints/:id/test": row(noKey, badKey, pkRefused, missing, badKey, badKey, denied, badKey),
  "POST /v1/webhook-endpoints/:id/rotate-secret": row(
    noKey,
    badKey,
    pkRefused,
    missing,
    badKey,
    badKey,
    denied,
    badKey,
  ),
  "GET /v1/webhook-endpoints/:id/deliveries": row(noKey, badKey, pkRefused, missing, badKey, badKey, ok, badKey),
  "POST /v1/webhook-deliveries/:id/retry": row(noKey, badKey, pkRefused, missing, badKey, badKey, denied, badKey),
  "GET /v1/events": row(noKey, badKey, pkRefused, ok, badKey, badKey, ok, badKey),
  "GET /v1/events/:id": row(noKey, badKey, pkRefused, missing, badKey, badKey, ok, badKey),
  "POST /v1/api-keys/roll": row(noKey, badKey, pkRefused, ok, badKey, badKey, denied, badKey),
  "GET /v1/account": row(noKey, badKey, pkRefused, ok, badKey, badKey, ok, badKey),
  "POST /v1/account": row(noKey, badKey, pkRefused, body400, badKey, badKey, denied, badKey),
  "GET /v1/balances": row(noKey, badKey, pkRefused, ok, badKey, badKey, ok, badKey),
  "GET /v1/dashboard/me": row(noKey, badKey, pkRefused, userOnly, badKey, badKey, ok, badKey),
  "POST /v1/dashboard/sign-in": row(body400, body400, body400, body400, body400, body400, body400, body400),
  "POST /v1/dashboard/sign-in/totp": row(body400, body400, body400, body400, body400, body400, body400, body400),
  "POST /v1/dashboard/sign-in/passkey": row(body400, body400, body400, body400, body400, body400, body400, body400),
  "POST /v1/dashboard/sign-in/passkey/options": row(ok, ok, ok, ok, ok, ok, ok, ok),
  "GET /v1/dashboard/users": row(noKey, badKey, pkRefused, userOnly, badKey, badKey, denied, badKey),
  "POST /v1/dashboard/users": row(noKey, badKey, pkRefused, userOnly, badKey, badKey, denied, badKey),
  "POST /v1/dashboard/users/:id": row(noKey, badKey, pkRefused, userOnly, badKey, badKey, denied, badKey),
  "POST /v1/dashboard/passkeys": row(noKey, badKey, pkRefused, userOnly, badKey, badKey, body400, badKey),
  "POST /v1/dashboard/passkeys/options": row(noKey, badKey, pkRefused, userOnly, badKey, badKey, ok, badKey),
  "POST /v1/staff/sign-in": row(body400, body400, body400, body400, body400, body400, body400, body400),
  "POST /v1/staff/sign-in/totp": row(body400, body400, body400, body400, body400, body400, body400, body400),
  "GET /v1/staff/me": row(noStaff, noStaff, noStaff, noStaff, noStaff, noStaff, noStaff, ok),
  "GET /v1/staff/merchants": row(noStaff, noStaff, noStaff, noStaff, noStaff, noStaff, noStaff, ok),
  "POST /v1/staff/merchants": row(noStaff, noStaff, noStaff, noStaff, noStaff, noStaff, noStaff, body400),
  "POST /v1/staff/merchants/:id/suspend": row(noStaff, noStaff, noStaff, noStaff, noStaff, noStaff, noStaff, ok),
  "POST /v1/staff/merchants/:id/unsuspend": row(noStaff, noStaff, noStaff, noStaff, noStaff, noStaff, noStaff, ok),
  "GET /v1/staff/vault": row(noStaff, noStaff, noStaff, noStaff, noStaff, noStaff, noStaff, ok),
  "GET /v1/staff/keys": row(noStaff, noStaff, noStaff, noStaff, noStaff, noStaff, noStaff, ok),
  "GET /v1/staff/reconciler": row(noStaff, noStaff, noStaff, noStaff, noStaff, noStaff, noStaff, ok),
  "GET /v1/staff/webhooks": row(noStaff, noStaff, noStaff, noStaff, noStaff, noStaff, noStaff, ok),
  "POST /v1/staff/audit/verify": row(noStaff, noStaff, noStaff, noStaff, noStaff, noStaff, noStaff, ok),
  "GET /v1/checkout/:paymentId": row(ok, ok, ok, ok, ok, ok, ok, ok),
  "POST /v1/checkout/:paymentId/push": row(body400, body400, body400, body400, body400, body400, body400, body400),
  "GET /v1/checkout-status/:id": row(body400, body400, body400, body400, body400, body400, body400, body400),
  "GET /v1/js/mpay.js": row(ok, ok, ok, ok, ok, ok, ok, ok),
  "GET /v1/js/mpay.js.sri": row(ok, ok, ok, ok, ok, ok, ok, ok),
  "POST /v1/vault/unseal": row(body400, body400, body400, body400, body400, body400, body400, body400),
  "GET /v1/vault/status": row(ok, ok, ok, ok, ok, ok, ok, ok),
  "GET /.well-known/jwks.json": row(ok, ok, ok, ok, ok, ok, ok, ok),
  "GET /.well-known/mpay-audit-key": row(ok, ok, ok, ok, ok, ok, ok, ok),
  "POST /v1/dashboard/sign-out": row(noKey, badKey, pkRefused, userOnly, badKey, badKey, ok, badKey),
  "POST /v1/staff/sign-out": row(noStaff, noStaff, noStaff, noStaff, noStaff, noStaff, noStaff, ok),
};
