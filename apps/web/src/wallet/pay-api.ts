/**
 * The payer's view of payments that the web contract adds (notes/web-contract.md, "Pay server additions" 4), typed
 * as the contract states them, until the SDK's `client.payments.get` / `list` carry them. They go through the same
 * `PayApiError` as the SDK's own routes, so the screens handle one kind of error.
 */
import { PayApiError } from "@mpay/wallet";

export type PaymentStatus = "requires_approval" | "authorized" | "captured" | "declined" | "canceled" | "expired";

/** `GET /v1/payer/payments/:id`: what the pay sheet shows before anything is signed. */
export interface PaymentRequest {
  object: "payment_request";
  id: string;
  status: PaymentStatus;
  merchant: { name: string };
  itemName: string;
  amount: number;
  currency: string;
  expiresAt: string;
  pairingCode: string;
  declineCode?: string | null;
  card?: { id: string; last4: string; issuerName: string } | null;
}

/** One receipt of `GET /v1/payer/payments`. */
export interface Receipt {
  id: string;
  status: PaymentStatus;
  merchant: { name: string };
  itemName: string;
  amount: number;
  currency: string;
  createdAt: string;
  card: { last4: string; issuerName: string } | null;
  refundedAmount: number;
  refunds: Array<{ id: string; amount: number; status: string; createdAt: string }>;
}

export class PayerApi {
  readonly #baseUrl: string;
  readonly #token: () => string | undefined;

  constructor(baseUrl: string, token: () => string | undefined) {
    this.#baseUrl = baseUrl.replace(/\/+$/, "");
    this.#token = token;
  }

  payment(paymentId: string): Promise<PaymentRequest> {
    return this.#request("GET", `/v1/payer/payments/${encodeURIComponent(paymentId)}`);
  }

  receipts(options: { limit?: number; startingAfter?: string } = {}): Promise<{ data: Receipt[]; hasMore: boolean }> {
    const query = new URLSearchParams();
    if (options.limit !== undefined) query.set("limit", String(options.limit));
    if (options.startingAfter !== undefined) query.set("startingAfter", options.startingAfter);
    return this.#request("GET", `/v1/payer/payments${query.size > 0 ? `?${query}` : ""}`);
  }

  async #request<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: "application/json" };
    const token = this.#token();
    if (token !== undefined) headers["authorization"] = `Bearer ${token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    let response: Response;
    try {
      response = await fetch(`${this.#baseUrl}${path}`, {
        method,
        headers,
        credentials: "omit",
        cache: "no-store",
        redirect: "manual",
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch {
      throw new PayApiError({
        type: "connection_error",
        code: "pay_server_unreachable",
        message: "the pay server cannot be reached",
      });
    }
    const json = (await response.json().catch(() => undefined)) as
      | { error?: { type?: string; code?: string; message?: string; param?: string } }
      | undefined;
    if (!response.ok) {
      const error = json?.error;
      throw new PayApiError({
        type: error?.type ?? "api_error",
        code: error?.code ?? "pay_server_answer_invalid",
        message: error?.message ?? `${method} ${path.split("?")[0]} failed with HTTP ${response.status}`,
        statusCode: response.status,
        param: error?.param,
      });
    }
    if (typeof json !== "object" || json === null)
      throw new PayApiError({
        type: "api_error",
        code: "pay_server_answer_invalid",
        message: `${method} ${path.split("?")[0]} answered no JSON`,
        statusCode: response.status,
      });
    return json as T;
  }
}
