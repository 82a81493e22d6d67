/** What the dashboard's routes answer about users and sessions, and the checks of a user's fields. */
import type { MerchantRole } from "../http/caller.ts";
import { MERCHANT_ROLES } from "../http/caller.ts";
import { ApiError } from "../http/errors.ts";

import type { MerchantUserRow } from "./store.ts";

export type SignInChallenge =
  | { object: "sign_in_challenge"; challenge: string; factor: "totp" }
  | {
      object: "sign_in_challenge";
      challenge: string;
      factor: "totp_setup";
      totpSetup: { secret: string; otpauthUri: string };
    };

export interface SessionUser {
  id: string;
  email: string;
  name: string;
  role: MerchantRole;
  merchantId: string;
  merchantName: string;
}

export interface DashboardSession {
  object: "dashboard_session";
  token: string;
  expiresAt: string;
  user: SessionUser;
}

export interface MerchantUserView {
  object: "merchant_user";
  id: string;
  email: string;
  name: string;
  role: MerchantRole;
  merchantId: string;
  disabled: boolean;
  totpEnabled: boolean;
  createdAt: string;
  lastSignInAt: string | null;
}

export function userView(row: MerchantUserRow): MerchantUserView {
  return {
    object: "merchant_user",
    id: row.id,
    email: row.email,
    name: row.name,
    role: row.role,
    merchantId: row.merchantId,
    disabled: row.disabled,
    totpEnabled: row.sealedTotpSecret !== null,
    createdAt: row.createdAt.toISOString(),
    lastSignInAt: row.lastSignInAt?.toISOString() ?? null,
  };
}

export function requireRole(role: string): MerchantRole {
  if (!(MERCHANT_ROLES as readonly string[]).includes(role))
    throw new ApiError("parameter_invalid", `role must be one of ${MERCHANT_ROLES.join(", ")}.`, "role");
  return role as MerchantRole;
}
