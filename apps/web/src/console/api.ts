/**
 * The pay server's console routes (/v1/staff/*) as the operator console calls them, with the staff session
 * (`Authorization: Bearer sts_…`). Errors are the dashboard's (`DashboardApiError`, same answer shape).
 */
import { DashboardApiError, refusal, send } from "../dashboard/api.ts";

export { DashboardApiError as ConsoleApiError };

export type StaffRole = "admin" | "support";

export interface StaffSession {
  token: string;
  expiresAt: string;
  staff: { id: string; email: string; name: string; role: StaffRole };
}

export type StaffChallenge =
  | { challenge: string; factor: "totp" }
  | { challenge: string; factor: "totp_setup"; totpSetup: { secret: string; otpauthUri: string } };

export interface ConsoleMerchant {
  id: string;
  name: string;
  displayName: string;
  allowedOrigins: string[];
  suspended: boolean;
  suspendedAt: string | null;
  createdAt: string;
}

export interface VaultStatus {
  kind: string;
  initialized: boolean;
  sealed: boolean;
  currentKeyVersion: number | null;
  keyVersions: number[];
  custody?: { threshold: number; shares: number; sharesReceived: number; generation: number; rekeyPending: boolean };
}

export interface KeyVersions {
  kind: string;
  currentKeyVersion: number | null;
  keyVersions: number[];
  custodyGeneration: number | null;
  rekeyPending: boolean;
}

export interface ReconcilerQueue {
  count: number;
  oldest: { id: string; kind: string; paymentId: string; merchantId: string; attempts: number; createdAt: string }[];
}

export interface WebhookBacklog {
  pending: { count: number; oldest: string | null };
  failed: { count: number; oldest: string | null };
}

export interface AuditVerification {
  ok: boolean;
  entries: number;
  heads: number;
  problems: { seq: number | null; kind: string; message: string }[];
}

export class ConsoleApi {
  constructor(
    private readonly payUrl: string,
    private readonly token: string | null = null,
  ) {}

  private async call<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {};
    if (this.token) headers["authorization"] = `Bearer ${this.token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    const answer = await send(`${this.payUrl}/v1/staff${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    if (!answer.ok) throw await refusal(answer);
    return (await answer.json()) as T;
  }

  password(email: string, password: string): Promise<StaffChallenge> {
    return this.call("POST", "/sign-in", { email, password });
  }
  totp(challenge: string, code: string): Promise<StaffSession> {
    return this.call("POST", "/sign-in/totp", { challenge, code });
  }
  signOut(): Promise<unknown> {
    return this.call("POST", "/sign-out", {});
  }
  async merchants(): Promise<ConsoleMerchant[]> {
    return (await this.call<{ data: ConsoleMerchant[] }>("GET", "/merchants")).data;
  }
  createMerchant(input: {
    name: string;
    displayName?: string;
    allowedOrigins: string[];
  }): Promise<{ merchant: ConsoleMerchant; secretKey: string; publishableKey: string }> {
    return this.call("POST", "/merchants", input);
  }
  setSuspended(id: string, suspended: boolean): Promise<ConsoleMerchant> {
    return this.call("POST", `/merchants/${encodeURIComponent(id)}/${suspended ? "suspend" : "unsuspend"}`, {});
  }
  vault(): Promise<VaultStatus> {
    return this.call("GET", "/vault");
  }
  keys(): Promise<KeyVersions> {
    return this.call("GET", "/keys");
  }
  reconciler(): Promise<ReconcilerQueue> {
    return this.call("GET", "/reconciler");
  }
  webhooks(): Promise<WebhookBacklog> {
    return this.call("GET", "/webhooks");
  }
  auditVerify(): Promise<AuditVerification> {
    return this.call("POST", "/audit/verify", {});
  }
}
