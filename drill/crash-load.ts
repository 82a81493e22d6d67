/**
 * The crash drill's load: a merchant's server and a payer's phone doing what they do — create a payment, approve
 * it on the phone (challenge, PIN over OPAQUE, the card released to the phone, the issuer's decision), then
 * capture, capture and refund, void, or cancel it unapproved — while the pay server may die at any moment.
 *
 * It keeps what the pay server acknowledged (a 200 the client received): the drill's proof at the end is that
 * every acknowledgment still holds. A merchant request that got no answer is sent again after the restart with the
 * same Idempotency-Key, as a merchant's server would; a payer's approval that got none is left alone (the payer
 * closed the app), so the reconciler has to settle what reached the issuer. A 5xx answer is no answer either: the
 * merchant retries it with the same key, at once and again after the next restart. Except the one 5xx that is an
 * answer: `issuer_unavailable` replayed for its key is the stored word that the operation is in doubt at the issuer
 * (DESIGN: the outcome reaches the merchant on the payment and by webhook once the reconciler settles it).
 *
 * Several payments are in flight at once (`inFlight` rounds side by side), so a kill lands among concurrent work.
 * The approvals go to the payers' phones (crash-phones.ts): one phone by default, so they take turns; with more
 * payers (the soak drill's `--payers`) up to that many approvals run at once.
 */
import { isPayApiError, type PinKeyStretching } from "@mpay/wallet";
import { api, errorCode, type HttpAnswer } from "../e2e/support/http.ts";
import { paymentBody } from "../e2e/support/pay-system.ts";
import type { IssuerProcess } from "../e2e/support/issuer-process.ts";
import { PhonePool, PIN, preparePhones, type Phone } from "./crash-phones.ts";

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
  /** Why it counts as unanswered: the last attempt's error or status and code. */
  lastAnswer?: string;
}

/** The server died under the request (no answer at all), as opposed to an answer the drill did not expect. */
class NoAnswer extends Error {}

export interface LoadTally {
  rounds: number;
  /** Answers that were errors while the server lived (refused states are expected after a crash; counted). */
  refusals: Record<string, number>;
  /** 5xx answers to merchant requests (each retried with its key). */
  serverErrors: number;
  /** Merchant retries answered with the stored answer (`idempotent-replayed`): the first answer was lost. */
  replayed: number;
  /** Replayed answers that did not match what the pay server holds now (a wrong stored answer). */
  replayMismatches: string[];
  /** Merchant requests whose stored answer says the operation is in doubt at the issuer (the reconciler's). */
  inDoubt: number;
}

export class CrashLoad {
  readonly claims = new Map<string, PaymentClaims>();
  readonly tally: LoadTally = {
    rounds: 0,
    refusals: {},
    serverErrors: 0,
    replayed: 0,
    replayMismatches: [],
    inDoubt: 0,
  };
  #unanswered: Unanswered[] = [];
  #round = 0;
  /** How many payers' phones approve. */
  readonly payers: number;
  /** Each phone approves one payment at a time: a payer has one PIN login in progress (a second replaces it). */
  readonly #phones: PhonePool;

  private constructor(
    private readonly payUrl: string,
    private readonly secretKey: string,
    phones: readonly Phone[],
    private readonly inFlight: number,
  ) {
    this.#phones = new PhonePool(phones);
    this.payers = phones.length;
  }

  /**
   * Each payer's phone bound, its PIN set and a test card of the simulator enrolled (the server must be up): the
   * payer of `sessionToken`, and one more for each of `otherPayers` (session tokens) when given.
   */
  static async prepare(options: {
    payUrl: string;
    dir: string;
    sessionToken: string;
    otherPayers?: readonly string[];
    secretKey: string;
    issuer: IssuerProcess;
    /** Payments in flight at once (default 1: one round after another). */
    inFlight?: number;
    /** The phones' PIN key stretching (default the wallet's "memory-constrained"). */
    keyStretching?: PinKeyStretching;
  }): Promise<CrashLoad> {
    const phones = await preparePhones({
      payUrl: options.payUrl,
      dir: options.dir,
      sessionTokens: [options.sessionToken, ...(options.otherPayers ?? [])],
      issuer: options.issuer,
      ...(options.keyStretching ? { keyStretching: options.keyStretching } : {}),
    });
    return new CrashLoad(options.payUrl, options.secretKey, phones, options.inFlight ?? 1);
  }

  /** Requests the last life left unanswered, sent again with their keys; true when all were answered. */
  async resend(): Promise<boolean> {
    const pending = this.#unanswered;
    this.#unanswered = [];
    for (const [i, request] of pending.entries()) {
      try {
        await this.#merchant(request, true);
      } catch (error) {
        if (!(error instanceof NoAnswer)) throw error;
        this.#unanswered.push(...pending.slice(i + 1));
        return false;
      }
    }
    return this.#unanswered.length === 0;
  }

  /** Merchant requests still without an answer (no answer, or 5xx every time). */
  get unanswered(): number {
    return this.#unanswered.length;
  }

  /** The first few unanswered requests, each with its last answer: for the report. */
  unansweredSample(n = 3): string[] {
    return this.#unanswered.slice(0, n).map((r) => `${r.key} ${r.path} (${r.lastAnswer ?? "?"})`);
  }

  /**
   * Rounds until `stop()` says so or the server stops answering, `inFlight` side by side; each round is one
   * payment's life. Returns when a request got no answer (the caller waits for the death and restarts) or `stop()`.
   */
  async run(stop: () => boolean): Promise<"no_answer" | "stopped"> {
    let gone = false;
    const lane = async () => {
      while (!stop() && !gone) {
        try {
          await this.#oneRound(this.#round++);
          this.tally.rounds++;
        } catch (error) {
          if (!(error instanceof NoAnswer)) throw error;
          gone = true;
        }
      }
    };
    await Promise.all(Array.from({ length: this.inFlight }, lane));
    return gone ? "no_answer" : "stopped";
  }

  async #oneRound(round: number): Promise<void> {
    // Small amounts: the test cards' credit limits (3,000,000 KRW the smallest) have to last for the soak drill's
    // tens of thousands of rounds; a captured payment keeps its hold.
    const amount = 100 + (round % 7) * 10;
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

  /** A payer approves on a free phone (after its approval in progress); true when the answer said `authorized`. */
  #approve(paymentId: string): Promise<boolean> {
    return this.#phones.with((phone) => this.#approveOn(phone, paymentId));
  }

  async #approveOn(phone: Phone, paymentId: string): Promise<boolean> {
    let outcome;
    try {
      outcome = await phone.wallet.approvePayment(paymentId, {
        cardId: phone.cardId,
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

  /**
   * A merchant request; its body when answered 200, null for an error answer; NoAnswer when the server died. A
   * 5xx is retried with the same key a few times, then kept for after the restart.
   */
  async #merchant(request: Unanswered, retry = false): Promise<Record<string, unknown> | null> {
    let answer: HttpAnswer;
    for (let attempt = 1; ; attempt++) {
      try {
        answer = await api(this.payUrl, "POST", request.path, this.secretKey, request.body, {
          "idempotency-key": request.key,
        });
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        this.#unanswered.push({ ...request, lastAnswer: `no answer: ${message.slice(0, 80)}` });
        throw new NoAnswer(message);
      }
      if (answer.status < 500) break;
      this.tally.serverErrors++;
      if (answer.headers.get("idempotent-replayed") === "true" && errorCode(answer) === "issuer_unavailable") {
        this.tally.inDoubt++;
        this.#refused(`${request.acknowledges}:in_doubt`);
        return null;
      }
      if (attempt >= 3) {
        this.#unanswered.push({ ...request, lastAnswer: `${answer.status} ${errorCode(answer) ?? "no code"}` });
        this.#refused(`${request.acknowledges}:${answer.status}:${errorCode(answer) ?? "no code"}`);
        return null;
      }
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
    if (answer.headers.get("idempotent-replayed") === "true" && retry) this.#replayed(request, answer);
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

  /**
   * The stored answer of a request cut off after its commit: it must be the answer of this request (this payment,
   * the state the request brought it to), not another's and not a stale one.
   */
  #replayed(request: Unanswered, answer: HttpAnswer): void {
    this.tally.replayed++;
    if (answer.status !== 200 || request.paymentId === null) return;
    const body = answer.body;
    const expected: Record<Acknowledged, (b: Record<string, unknown>) => boolean> = {
      created: () => true,
      authorized: () => true,
      captured: (b) => b["status"] === "captured",
      refunded: (b) => b["paymentId"] === request.paymentId,
      canceled: (b) => b["status"] === "canceled",
    };
    const samePayment = request.acknowledges === "refunded" || body["id"] === request.paymentId;
    if (!samePayment || !expected[request.acknowledges](body))
      this.tally.replayMismatches.push(`${request.key}: ${JSON.stringify(body).slice(0, 200)}`);
  }

  #claim(paymentId: string, what: Acknowledged): void {
    this.claims.get(paymentId)?.acknowledged.add(what);
  }

  #refused(what: string): void {
    this.tally.refusals[what] = (this.tally.refusals[what] ?? 0) + 1;
  }
}
