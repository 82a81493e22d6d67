/**
 * A connector that loses answers on demand, for tests of what the pay server does when the issuer's outcome is
 * unknown: the request reaches the issuer and is done there, then the answer is "lost" (an `unavailable` error),
 * exactly what a timeout or a dropped connection after the issuer's commit looks like. Or the request is dropped on
 * its way (`dropNext`): the same error, with nothing done at the issuer.
 */
import { IssuerError, type IssuerConnector } from "../issuers/connector.ts";

export type Operation = "authorize" | "capture" | "void" | "refund";

export class LossyConnector implements IssuerConnector {
  /** The next call of each operation named here loses its answer (one each). */
  readonly loseNext = new Set<Operation>();
  /** The next call of each operation named here never reaches the issuer, and fails as a lost answer does. */
  readonly dropNext = new Set<Operation>();
  readonly name: string;

  constructor(private readonly real: IssuerConnector) {
    this.name = real.name;
  }

  async #maybeLose<T>(operation: Operation, send: () => Promise<T>): Promise<T> {
    if (this.dropNext.delete(operation))
      throw new IssuerError("unavailable", "issuer_timeout", "the request was dropped (test)");
    const result = await send();
    if (this.loseNext.delete(operation))
      throw new IssuerError("unavailable", "issuer_timeout", "the answer was lost (test)");
    return result;
  }

  listIssuers: IssuerConnector["listIssuers"] = () => this.real.listIssuers();
  enroll: IssuerConnector["enroll"] = (...a) => this.real.enroll(...a);
  verifyEnrollment: IssuerConnector["verifyEnrollment"] = (...a) => this.real.verifyEnrollment(...a);
  authorize: IssuerConnector["authorize"] = (...a) => this.#maybeLose("authorize", () => this.real.authorize(...a));
  capture: IssuerConnector["capture"] = (...a) => this.#maybeLose("capture", () => this.real.capture(...a));
  void: IssuerConnector["void"] = (...a) => this.#maybeLose("void", () => this.real.void(...a));
  refund: IssuerConnector["refund"] = (...a) => this.#maybeLose("refund", () => this.real.refund(...a));
  inquire: IssuerConnector["inquire"] = (...a) => this.real.inquire(...a);
  unbindDevice: IssuerConnector["unbindDevice"] = (...a) => this.real.unbindDevice(...a);
  createRecurringToken: IssuerConnector["createRecurringToken"] = (...a) => this.real.createRecurringToken(...a);
  revokeRecurringToken: IssuerConnector["revokeRecurringToken"] = (...a) => this.real.revokeRecurringToken(...a);
}
