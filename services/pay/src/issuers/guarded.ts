/**
 * A connector behind one circuit breaker per issuer (breaker.ts). Every per-issuer call asks the issuer's breaker
 * first: an open breaker fails it at once with `not_sent` (the request never left, so nothing is in doubt); a sent
 * call reports back whether the issuer answered. A refusal is an answer; only `unavailable` counts as silence.
 */
import type { Clock } from "@mpay/service-kit";
import { CircuitBreaker, type BreakerSettings, type BreakerState } from "./breaker.ts";
import { IssuerError, type IssuerConnector } from "./connector.ts";

export class GuardedConnector implements IssuerConnector {
  readonly name: string;
  readonly #breakers = new Map<string, CircuitBreaker>();

  constructor(
    private readonly connector: IssuerConnector,
    private readonly settings: BreakerSettings,
    private readonly clock: Clock,
    private readonly onChange: (issuerId: string, state: BreakerState) => void = () => {},
  ) {
    this.name = connector.name;
  }

  /** Each issuer's breaker, once it was called (an issuer never called is closed). */
  states(): Array<{ issuerId: string; state: BreakerState }> {
    return [...this.#breakers].map(([issuerId, breaker]) => ({ issuerId, state: breaker.state }));
  }

  /** True when a call to the issuer now would be sent. */
  wouldSend(issuerId: string): boolean {
    return this.#breakers.get(issuerId)?.wouldSend() ?? true;
  }

  listIssuers: IssuerConnector["listIssuers"] = () => this.connector.listIssuers();
  enroll: IssuerConnector["enroll"] = (id, ...a) => this.#guard(id, () => this.connector.enroll(id, ...a));
  verifyEnrollment: IssuerConnector["verifyEnrollment"] = (id, ...a) =>
    this.#guard(id, () => this.connector.verifyEnrollment(id, ...a));
  authorize: IssuerConnector["authorize"] = (id, ...a) => this.#guard(id, () => this.connector.authorize(id, ...a));
  capture: IssuerConnector["capture"] = (id, ...a) => this.#guard(id, () => this.connector.capture(id, ...a));
  void: IssuerConnector["void"] = (id, ...a) => this.#guard(id, () => this.connector.void(id, ...a));
  refund: IssuerConnector["refund"] = (id, ...a) => this.#guard(id, () => this.connector.refund(id, ...a));
  inquire: IssuerConnector["inquire"] = (id, ...a) => this.#guard(id, () => this.connector.inquire(id, ...a));
  unbindDevice: IssuerConnector["unbindDevice"] = (id, ...a) =>
    this.#guard(id, () => this.connector.unbindDevice(id, ...a));
  createRecurringToken: IssuerConnector["createRecurringToken"] = (id, ...a) =>
    this.#guard(id, () => this.connector.createRecurringToken(id, ...a));
  revokeRecurringToken: IssuerConnector["revokeRecurringToken"] = (id, ...a) =>
    this.#guard(id, () => this.connector.revokeRecurringToken(id, ...a));

  async #guard<T>(issuerId: string, send: () => Promise<T>): Promise<T> {
    const admission = this.#breaker(issuerId).admit();
    if (!admission.sent)
      throw new IssuerError(
        "not_sent",
        "issuer_unavailable",
        "the issuer is not answering (its circuit breaker is open); the request was not sent",
      );
    try {
      const result = await send();
      admission.report(true);
      return result;
    } catch (error) {
      admission.report(!(error instanceof IssuerError && error.kind === "unavailable"));
      throw error;
    }
  }

  #breaker(issuerId: string): CircuitBreaker {
    let breaker = this.#breakers.get(issuerId);
    if (!breaker) {
      breaker = new CircuitBreaker(this.settings, this.clock, (state) => this.onChange(issuerId, state));
      this.#breakers.set(issuerId, breaker);
    }
    return breaker;
  }
}
