/**
 * The pay server's merchant API as the dashboard calls it: the same /v1 routes and rules as the merchant SDK, with
 * the signed-in user's session (`Authorization: Bearer mds_…`) in the mode the header switch chose (`MPay-Mode`).
 * Every POST carries a fresh Idempotency-Key, as the SDK's do. No special route for the dashboard: what a role may
 * not do, the pay server refuses (403 `permission_denied`) and the screen says so.
 */
import type { Mode, Role } from "./model.ts";

/** A refusal of the pay server (its `error.code`), or `network_error` when it could not be reached. */
export class DashboardApiError extends Error {
  override readonly name = "DashboardApiError";
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly param: string | null = null,
  ) {
    super(message);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export interface SessionUser {
  id: string;
  email: string;
  name: string;
  role: Role;
  merchantId: string;
  merchantName: string;
}

export interface DashboardSession {
  token: string;
  expiresAt: string;
  user: SessionUser;
}

export type SignInChallenge =
  | { object: "sign_in_challenge"; challenge: string; factor: "totp" }
  | {
      object: "sign_in_challenge";
      challenge: string;
      factor: "totp_setup";
      totpSetup: { secret: string; otpauthUri: string };
    };

export interface Payment {
  id: string;
  livemode: boolean;
  status: string;
  amount: number;
  currency: string;
  amountCaptured: number;
  amountRefunded: number;
  amountRefundable: number;
  captureMethod: string;
  orderId: string;
  itemName: string;
  declineCode: string | null;
  createdAt: string;
  authorizedAt: string | null;
  capturedAt: string | null;
  canceledAt: string | null;
}

export interface ListOf<T> {
  data: T[];
  hasMore: boolean;
}

export type TimelineEntry =
  | { type: "status"; at: string; status: string; amount: number; declineCode: string | null }
  | { type: "refund"; at: string; refundId: string; amount: number; reason: string | null }
  | { type: "event"; at: string; eventId: string; eventType: string }
  | {
      type: "webhook_delivery";
      at: string;
      deliveryId: string;
      eventId: string;
      eventType: string;
      endpointId: string;
      status: "pending" | "succeeded" | "failed";
      attempts: number;
      lastStatusCode: number | null;
      lastError: string | null;
      nextAttemptAt: string | null;
      retry: string | null;
    };

export interface Timeline {
  paymentId: string;
  currency: string;
  data: TimelineEntry[];
}

export interface DailyRow {
  date: string;
  count: number;
  authorized: number;
  captured: number;
  refunded: number;
  net: number;
}

export interface WebhookEndpoint {
  id: string;
  url: string;
  enabledEvents: string[];
  status: "enabled" | "disabled";
  /** When and why a disabled endpoint was disabled; failing since when (null while it answers). */
  disabledAt?: string | null;
  disabledReason?: "merchant" | "auto_disabled" | null;
  failingSince?: string | null;
  createdAt: string;
  /** Given once, when the endpoint is made or its secret rotated (branch `api`); absent on older servers. */
  secret?: string;
}

export interface TeamMember {
  id: string;
  email: string;
  name: string;
  role: Role;
  disabled: boolean;
  totpEnabled: boolean;
  createdAt: string;
  lastSignInAt: string | null;
}

export async function send(url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, { ...init, cache: "no-store", credentials: "omit" });
  } catch {
    throw new DashboardApiError("network_error", 0, "The pay server could not be reached");
  }
}

export async function refusal(answer: Response): Promise<DashboardApiError> {
  const body: unknown = await answer.json().catch(() => null);
  const error = isRecord(body) && isRecord(body["error"]) ? body["error"] : {};
  return new DashboardApiError(
    typeof error["code"] === "string" ? error["code"] : `http_${answer.status}`,
    answer.status,
    typeof error["message"] === "string" ? error["message"] : `HTTP ${answer.status}`,
    typeof error["param"] === "string" ? error["param"] : null,
  );
}

const idempotencyKey = () => `dash-${crypto.randomUUID()}`;

/** The sign-in steps, before there is a session. */
export class SignInApi {
  constructor(private readonly payUrl: string) {}

  private async post<T>(path: string, body: unknown): Promise<T> {
    const answer = await send(`${this.payUrl}/v1${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", "idempotency-key": idempotencyKey() },
      body: JSON.stringify(body),
    });
    if (!answer.ok) throw await refusal(answer);
    return (await answer.json()) as T;
  }

  password(email: string, password: string): Promise<SignInChallenge> {
    return this.post("/dashboard/sign-in", { email, password });
  }

  totp(challenge: string, code: string): Promise<DashboardSession> {
    return this.post("/dashboard/sign-in/totp", { challenge, code });
  }

  passkeyOptions(): Promise<Record<string, unknown>> {
    return this.post("/dashboard/sign-in/passkey/options", {});
  }

  passkey(response: unknown): Promise<DashboardSession> {
    return this.post("/dashboard/sign-in/passkey", { response });
  }
}

/** The merchant API with a session, in one mode. */
export class MerchantApi {
  constructor(
    private readonly payUrl: string,
    private readonly token: string,
    readonly mode: Mode,
  ) {}

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { authorization: `Bearer ${this.token}`, "mpay-mode": this.mode, ...extra };
  }

  async get<T>(path: string, query?: URLSearchParams): Promise<T> {
    const search = query && query.size > 0 ? `?${query}` : "";
    const answer = await send(`${this.payUrl}/v1${path}${search}`, { method: "GET", headers: this.headers() });
    if (!answer.ok) throw await refusal(answer);
    return (await answer.json()) as T;
  }

  async post<T>(path: string, body: unknown = {}): Promise<T> {
    const answer = await send(`${this.payUrl}/v1${path}`, {
      method: "POST",
      headers: this.headers({ "content-type": "application/json", "idempotency-key": idempotencyKey() }),
      body: JSON.stringify(body),
    });
    if (!answer.ok) throw await refusal(answer);
    return (await answer.json()) as T;
  }

  /**
   * A file (the CSV export): its bytes, named `<name>-<mode>-<today>.csv` here (a cross-origin answer's
   * Content-Disposition is not readable unless CORS exposes it).
   */
  async download(path: string, query: URLSearchParams, name: string): Promise<{ blob: Blob; fileName: string }> {
    const search = query.size > 0 ? `?${query}` : "";
    const answer = await send(`${this.payUrl}/v1${path}${search}`, { method: "GET", headers: this.headers() });
    if (!answer.ok) throw await refusal(answer);
    const now = new Date();
    const today = [now.getFullYear(), now.getMonth() + 1, now.getDate()].map((n) => String(n).padStart(2, "0"));
    return { blob: await answer.blob(), fileName: `${name}-${this.mode}-${today.join("-")}.csv` };
  }
}
