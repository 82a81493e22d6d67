/**
 * The failover drill's merchant server: creates payments one after another, and sends a request that got an
 * error answer (5xx) or none again with the same Idempotency-Key until it is answered, as a merchant's server
 * should. It keeps every acknowledged payment (id, status, when) and every error it saw, with its time.
 */
import { api } from "../e2e/support/http.ts";
import { paymentBody } from "../e2e/support/pay-system.ts";

export interface Acknowledgment {
  id: string;
  status: string;
  amount: number;
  at: number;
  /** When the attempt that was answered was sent. */
  sentAt: number;
  /** Attempts it took (1: answered the first time). */
  attempts: number;
}

export interface ClientError {
  at: number;
  /** `503 database_unavailable`, `500 internal_error`, `no answer`, … */
  what: string;
}

export class FailoverMerchant {
  readonly acknowledged: Acknowledgment[] = [];
  readonly errors: ClientError[] = [];
  /** Answers that refused the payment for good (4xx): none expected. */
  readonly refused: string[] = [];
  #next = 0;

  constructor(
    private readonly payUrl: string,
    private readonly secretKey: string,
  ) {}

  /** Payments until `stop()`; each one retried with its key until answered. */
  async run(stop: () => boolean): Promise<void> {
    while (!stop()) {
      const n = this.#next++;
      const key = `failover-${n}`;
      const amount = 1000 + (n % 5) * 100;
      for (let attempt = 1; ; attempt++) {
        let what: string;
        const sentAt = Date.now();
        try {
          const answer = await api(
            this.payUrl,
            "POST",
            "/v1/payments",
            this.secretKey,
            paymentBody({ amount, orderId: key }),
            {
              "idempotency-key": key,
            },
          );
          if (answer.status === 200) {
            const id = String(answer.body["id"]);
            this.acknowledged.push({
              id,
              status: String(answer.body["status"]),
              amount,
              at: Date.now(),
              sentAt,
              attempts: attempt,
            });
            break;
          }
          const code = (answer.body as { error?: { code?: string } } | null)?.error?.code ?? "";
          what = `${answer.status} ${code}`.trim();
          if (answer.status < 500) {
            this.refused.push(`${key}: ${what}`);
            break;
          }
        } catch {
          what = "no answer";
        }
        this.errors.push({ at: Date.now(), what });
        // A merchant's server backs off a little before sending the same request again.
        await new Promise((resolve) => setTimeout(resolve, 200));
        if (stop() && attempt > 50) break;
      }
    }
  }
}
