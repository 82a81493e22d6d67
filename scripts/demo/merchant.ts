/**
 * The demo merchant's server, as a merchant writes it: the public merchant API over HTTP with its secret key
 * (docs/merchant-api.md), an Idempotency-Key on every POST, every answer checked against the fields used here.
 * The key goes only into the Authorization header, never into an error or the output.
 */
import { randomUUID } from "node:crypto";
import { z } from "zod";
import { PAYMENT_STATUSES } from "@mpay/protocol";
import { DemoError } from "./config.ts";

const paymentSchema = z.object({
  id: z.string(),
  status: z.enum(PAYMENT_STATUSES),
  amount: z.number().int(),
  currency: z.string(),
  amountCaptured: z.number().int(),
  amountRefunded: z.number().int(),
  amountRefundable: z.number().int(),
  declineCode: z.string().nullable(),
  /** The hosted checkout page where the payer pays (the web app's `/checkout/:id`). */
  checkoutUrl: z.string().url(),
});
const refundSchema = z.object({ id: z.string(), amount: z.number().int(), currency: z.string(), status: z.string() });
const balancesSchema = z.object({
  data: z.array(z.object({ account: z.string(), currency: z.string(), balance: z.number().int() })),
});
const errorSchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

export type Payment = z.infer<typeof paymentSchema>;
export type Balance = z.infer<typeof balancesSchema>["data"][number];

export interface NewPayment {
  amount: number;
  currency: string;
  orderId: string;
  itemName: string;
  returnUrl: string;
  cancelUrl: string;
  captureMethod: "manual" | "automatic";
}

export class MerchantApi {
  readonly #baseUrl: string;
  readonly #secretKey: string;

  constructor(payUrl: string, secretKey: string) {
    this.#baseUrl = `${payUrl}/v1`;
    this.#secretKey = secretKey;
  }

  createPayment(input: NewPayment): Promise<Payment> {
    return this.#call("POST", "/payments", paymentSchema, input);
  }

  payment(id: string): Promise<Payment> {
    return this.#call("GET", `/payments/${encodeURIComponent(id)}`, paymentSchema);
  }

  capture(id: string): Promise<Payment> {
    return this.#call("POST", `/payments/${encodeURIComponent(id)}/capture`, paymentSchema, {});
  }

  refund(id: string, amount: number, reason: string): Promise<z.infer<typeof refundSchema>> {
    return this.#call("POST", `/payments/${encodeURIComponent(id)}/refunds`, refundSchema, { amount, reason });
  }

  async balances(): Promise<Balance[]> {
    return (await this.#call("GET", "/balances", balancesSchema)).data;
  }

  async #call<T>(method: "GET" | "POST", path: string, schema: z.ZodType<T>, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.#secretKey}` };
    if (body !== undefined)
      Object.assign(headers, { "content-type": "application/json", "idempotency-key": randomUUID() });
    const response = await fetch(`${this.#baseUrl}${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const json: unknown = await response.json().catch(() => null);
    if (!response.ok) {
      const error = errorSchema.safeParse(json);
      throw new DemoError(
        `${method} /v1${path} answered ${response.status}${error.success ? ` ${error.data.error.code}: ${error.data.error.message}` : ""}`,
      );
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) throw new DemoError(`${method} /v1${path} answered something other than the documented shape`);
    return parsed.data;
  }
}
