/**
 * Who may call which merchant route: the least role a dashboard user needs, per `METHOD /route/pattern` (Fastify's
 * `routeOptions.url`). API keys keep what they have always had (every route but the dashboard's user-only ones).
 *
 * - support: reads (payments, refunds, events, mandates, balances, account, webhook endpoints and deliveries).
 * - developer: everything a secret key can do (create, capture, cancel, refund, webhook endpoints, key roll,
 *   account update).
 * - owner: a developer who also manages the merchant's staff.
 *
 * A /v1 merchant route missing from this table is denied to every user session, and the app refuses to start with
 * one (`classifyRoute` runs on every route the v1 scope registers), so a new route cannot slip in unclassified:
 * whoever adds a route decides here who may call it.
 */
import type { MerchantAuth, MerchantRole } from "../http/caller.ts";
import { MERCHANT_ROLES } from "../http/caller.ts";
import { ApiError } from "../http/errors.ts";

export interface RoutePermission {
  /** The least role allowed. */
  role: MerchantRole;
  /** Only for a signed-in dashboard user: an API key is refused (staff management, the user's own session). */
  sessionOnly?: boolean;
}

const support: RoutePermission = { role: "support" };
const developer: RoutePermission = { role: "developer" };
const owner: RoutePermission = { role: "owner", sessionOnly: true };
const anyUser: RoutePermission = { role: "support", sessionOnly: true };

export const PERMISSIONS: Readonly<Record<string, RoutePermission>> = {
  "GET /v1/payments": support,
  "GET /v1/payments/:id": support,
  "POST /v1/payments": developer,
  "POST /v1/payments/:id/capture": developer,
  "POST /v1/payments/:id/cancel": developer,
  "GET /v1/payments/:id/refunds": support,
  "POST /v1/payments/:id/refunds": developer,
  "GET /v1/refunds/:id": support,
  "GET /v1/events": support,
  "GET /v1/events/:id": support,
  "GET /v1/mandates/:id": support,
  "GET /v1/webhook-endpoints": support,
  "GET /v1/webhook-endpoints/:id": support,
  "GET /v1/webhook-endpoints/:id/deliveries": support,
  "POST /v1/webhook-endpoints": developer,
  "POST /v1/webhook-endpoints/:id": developer,
  "POST /v1/webhook-endpoints/:id/test": developer,
  "POST /v1/webhook-endpoints/:id/rotate-secret": developer,
  "DELETE /v1/webhook-endpoints/:id": developer,
  "POST /v1/webhook-endpoints/:id/enable": developer,
  "POST /v1/webhook-deliveries/:id/retry": developer,
  "GET /v1/balances": support,
  "GET /v1/account": support,
  "POST /v1/account": developer,
  "POST /v1/api-keys/roll": developer,
  // the dashboard's read views (reports/routes.ts)
  "GET /v1/payments/:id/timeline": support,
  "GET /v1/payments/export.csv": support,
  "GET /v1/reports/daily": support,
  // the dashboard's own routes (routes.ts)
  "GET /v1/dashboard/me": anyUser,
  "POST /v1/dashboard/sign-out": anyUser,
  "POST /v1/dashboard/passkeys/options": anyUser,
  "POST /v1/dashboard/passkeys": anyUser,
  "GET /v1/dashboard/users": owner,
  "POST /v1/dashboard/users": owner,
  "POST /v1/dashboard/users/:id": owner,
};

/** The table's key of a request: HEAD is answered by its GET route. */
export function routeKey(method: string, url: string): string {
  return `${method === "HEAD" ? "GET" : method} ${url}`;
}

/** Throws at registration for a merchant route with no entry (OPTIONS is CORS's preflight, never a handler). */
export function classifyRoute(method: string | string[], url: string): string[] {
  const keys: string[] = [];
  for (const m of Array.isArray(method) ? method : [method]) {
    if (m === "OPTIONS") continue;
    const key = routeKey(m, url);
    if (!PERMISSIONS[key])
      throw new Error(
        `merchant route ${key} has no entry in services/pay/src/merchant-users/permissions.ts: say which role may call it`,
      );
    keys.push(key);
  }
  return keys;
}

const rank = (role: MerchantRole) => MERCHANT_ROLES.indexOf(role);

/** Throws unless `auth` may call the route: a user needs the route's role, a key any route that is not user-only. */
export function authorizeRoute(method: string, url: string | undefined, auth: MerchantAuth): void {
  const rule = url === undefined ? undefined : PERMISSIONS[routeKey(method, url)];
  if (auth.role === undefined) {
    if (rule?.sessionOnly)
      throw new ApiError(
        "dashboard_session_required",
        "This route is for a signed-in dashboard user (Authorization: Bearer mds_…), not an API key.",
      );
    return;
  }
  if (!rule) throw new ApiError("permission_denied", "This route is not open to dashboard users.");
  if (rank(auth.role) < rank(rule.role))
    throw new ApiError(
      "permission_denied",
      `This needs the ${rule.role} role${rule.role === "owner" ? "" : " or higher"}; you are ${auth.role}.`,
    );
}
