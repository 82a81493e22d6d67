/**
 * The crash drill's load: a merchant's server and a payer's phone doing what they do — create a payment, approve
 * it on the phone (challenge, PIN over OPAQUE, the card released to the phone, the issuer's decision), then
 * capture, capture and refund, void, or cancel it unapproved — while the pay server may die at any moment.
 *
 * It keeps what the pay server acknowledged (a 200 the client received): the drill's proof at the end is that
 * every acknowledgment still holds. A merchant request that got no answer is sent again after the restart with the
 * same Idempotency-Key, as a merchant's server would; a payer's approval that got none is left alone (the payer
 * closed the app), so the reconciler has to settle what reached the issuer.
 */
import { join } from "node:path";
import { isPayApiError, PayClient, Wallet } from "@mpay/wallet";
import { FileKeyStore } from "@mpay/wallet/node";
import { TEST_NETWORK_ROOTS } from "@mpay/testing/network-roots";
import { api, type HttpAnswer } from "../e2e/support/http.ts";
import { paymentBody } from "../e2e/support/pay-system.ts";
import { approvingTestCards } from "../bench/pay-wallet.ts";
import type { IssuerProcess } from "../e2e/support/issuer-process.ts";
import { ISSUER_ID } from "./crash-system.ts";

const PIN = "730182";

export type Acknowledged = "created" | "authorized" | "captured" | "refunded" | "canceled";

/** What the clients were told about one payment. */
export interface PaymentClaims {
  amount: number;
  acknowledged: Set<Acknowledged>;
}

/** A merchant request that got no answer: sent again, the same, after the restart. */
interface Unanswered {
  paymentId: string | null;
  path: string;
  body: unknown;
  key: string;
  acknowledges: Acknowledged;
}

/** The server died under the request (no answer at all), as opposed to an answer the drill did not expect. */
class NoAnswer extends Error {}

export interface LoadTally {
  rounds: number;
  /** Answers that were errors while the server lived (refused states are expected after a crash; counted). */
  refusals: Record<string, number>;
}

export class CrashLoad {
  readonly claims = new Map<string, PaymentClaims>();
  readonly tally: LoadTally = { rounds: 0, refusals: {} };
  #unanswered: Unanswered[] = [];
  #round = 0;

  private constructor(
    private readonly payUrl: string,
    private readonly secretKey: string,
    private readonly wallet: Wallet,
    private readonly cardId: string,
  ) {}

  /** The payer's phone bound, its PIN set and a test card of the simulator enrolled (the server must be up). */
  static async prepare(options: {
    payUrl: string;
    dir: string;
    sessionToken: string;
    secretKey: string;
    issuer: IssuerProcess;
  }): Promise<CrashLoad> {
    const card = approvingTestCards([ISSUER_ID])[0];
    if (!card) throw new Error(`the simulator has no approving card of ${ISSUER_ID}`);
    const wallet = new Wallet({
      trustedRoots: TEST_NETWORK_ROOTS,
      keyStore: new FileKeyStore(join(options.dir, "phone.json"), FileKeyStore.newDeviceSecret()),
      client: new PayClient({ baseUrl: options.payUrl, sessionToken: options.sessionToken }),
      keyStretching: "memory-constrained",
    });
    await wallet.bindThisDevice("Drill phone");
    await wallet.setPin(PIN);
    const enrollment = await wallet.startCardEnrollment({ pan: card.pan, expiry: card.expiry, cvc: card.cvc });
    const enrolled = await enrollment.complete(await options.issuer.latestCode(card.phone));
    return new CrashLoad(options.payUrl, options.secretKey, wallet, enrolled.id);
  }

  /** Requests the last life left unanswered, sent again with their keys; true when all were answered. */
  async resend(): Promise<boolean> {
    const pending = this.#unanswered;
    this.#unanswered = [];
    for (const [i, request] of pending.entries()) {
      try {
        await this.#merchant(request);
      } catch (error) {
        if (!(error instanceof NoAnswer)) throw error;
        this.#unanswered.push(...pending.slice(i + 1));
        return false;
      }
    }
    return true;
  }

  /**
   * Rounds until `stop()` says so or the server stops answering; each round is one payment's life. Returns when
   * a request got no answer (the caller waits for the death and restarts) or `stop()`.
   */
  async run(stop: () => boolean): Promise<"no_answer" | "stopped"> {
    while (!stop()) {
      try {
        await this.#oneRound(this.#round++);
        this.tally.rounds++;
      } catch (error) {
        if (error instanceof NoAnswer) return "no_answer";
        throw error;
      }
    }
    return "stopped";
  }

  async #oneRound(round: number): Promise<void> {
    // Small amounts: the test card's credit limit has to last for thousands of rounds.
    const amount = 1000 + (round % 7) * 100;
    const created = await this.#merchant({
      paymentId: null,
      path: "/v1/payments",
      body: paymentBody({ amount, orderId: `drill-${round}` }),
      key: `create-${round}`,
      acknowledges: "created",
    });
    const id = created?.["id"];
    if (typeof id !== "string") return;
    const path = (verb: string) => `/v1/payments/${id}/${verb}`;
    const kind = round % 4;
    if (kind === 3) {
      await this.#merchant({
        paymentId: id,
        path: path("cancel"),
        body: {},
        key: `cancel-${round}`,
        acknowledges: "canceled",
      });
      return;
    }
    if (!(await this.#approve(id))) return;
    if (kind === 2) {
      await this.#merchant({
        paymentId: id,
        path: path("cancel"),
        body: {},
        key: `void-${round}`,
        acknowledges: "canceled",
      });
      return;
    }
    const captured = await this.#merchant({
      paymentId: id,
      path: path("capture"),
      body: {},
      key: `capture-${round}`,
      acknowledges: "captured",
    });
    if (kind === 1 && captured)
      await this.#merchant({
        paymentId: id,
        path: path("refunds"),
        body: {},
        key: `refund-${round}`,
        acknowledges: "refunded",
      });
  }

  /** The payer approves on the phone; true when the answer said `authorized`. */
  async #approve(paymentId: string): Promise<boolean> {
    let outcome;
    try {
      outcome = await this.wallet.approvePayment(paymentId, {
        cardId: this.cardId,
        pin: PIN,
        confirm: async () => true,
      });
    } catch (error) {
      // The SDK's word for a fetch that failed: the server is gone (or going) under the phone.
      if (isPayApiError(error, "pay_server_unreachable"))
        throw new NoAnswer(error instanceof Error ? error.message : String(error));
      if (isPayApiError(error)) {
        this.#refused(`approve:${error.code}`);
        return false;
      }
      // fetch failed: the server is gone (or going) under the phone.
      throw new NoAnswer(error instanceof Error ? error.message : String(error));
    }
    if (outcome.payment.status !== "authorized") {
      this.#refused(`approve:${outcome.payment.status}`);
      return false;
    }
    this.#claim(paymentId, "authorized");
    return true;
  }

  /** A merchant request; its body when answered 200, null for an error answer; NoAnswer when the server died. */
  async #merchant(request: Unanswered): Promise<Record<string, unknown> | null> {
    let answer: HttpAnswer;
    try {
      answer = await api(this.payUrl, "POST", request.path, this.secretKey, request.body, {
        "idempotency-key": request.key,
      });
    } catch (error) {
      this.#unanswered.push(request);
      throw new NoAnswer(error instanceof Error ? error.message : String(error));
    }
    if (answer.status !== 200) {
      const code = (answer.body as { error?: { code?: string } } | null)?.error?.code ?? String(answer.status);
      this.#refused(`${request.acknowledges}:${code}`);
      return null;
    }
    const paymentId = request.paymentId ?? (answer.body["id"] as string);
    if (request.acknowledges === "created")
      this.claims.set(paymentId, { amount: Number(answer.body["amount"]), acknowledged: new Set() });
    this.#claim(paymentId, request.acknowledges);
    return answer.body;
  }

  #claim(paymentId: string, what: Acknowledged): void {
    this.claims.get(paymentId)?.acknowledged.add(what);
  }

  #refused(what: string): void {
    this.tally.refusals[what] = (this.tally.refusals[what] ?? 0) + 1;
  }
}
