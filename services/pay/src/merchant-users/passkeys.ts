/** Passkey sign-in for dashboard users: not built yet (see the report); every call answers passkeys_unavailable. */
import type { MerchantAuth } from "../http/caller.ts";
import { ApiError } from "../http/errors.ts";
import type { DashboardSession } from "./service.ts";

export class DashboardPasskeys {
  private unavailable(): ApiError {
    return new ApiError("passkeys_unavailable", "Dashboard passkeys are not available yet; sign in with TOTP.");
  }
  async signInOptions(): Promise<Record<string, unknown>> {
    throw this.unavailable();
  }
  async signIn(_response: unknown): Promise<DashboardSession> {
    throw this.unavailable();
  }
  async registrationOptions(_auth: MerchantAuth): Promise<Record<string, unknown>> {
    throw this.unavailable();
  }
  async register(
    _auth: MerchantAuth,
    _response: unknown,
  ): Promise<{ object: "dashboard_passkey"; id: string; createdAt: string }> {
    throw this.unavailable();
  }
}
