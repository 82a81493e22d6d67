/**
 * The contract every card-issuer connector implements (STYLE.md: Hyperswitch's connector contract). The
 * simulator's HTTP connector (simulator/) is the first implementation; another network would be another. A
 * connector maps wire messages to these types and never imports payments code; orchestration lives in the
 * services that call it. Every implementation passes the suite in connector.case.ts.
 *
 * Failures are normalised here into one error class with two kinds:
 * - `refused`: the issuer answered and said no (a 4xx with its code): nothing changed there.
 * - `unavailable`: no usable answer (timeout, connection lost, 5xx): the outcome is UNKNOWN and the caller must
 *   settle it later (inquire, or repeat the idempotent operation), never assume either way.
 * - `not_sent`: the request never left this server (the issuer's circuit breaker is open, issuers/breaker.ts):
 *   nothing happened at the issuer, as with `refused`, but it is no answer from it: the payer is told the issuer is
 *   unavailable (503 `issuer_unavailable`) and may try again; nothing is left in doubt for the reconciler.
 * A decline is not an error: `authorize` answers `{ decision: "declined", declineCode }`.
 */
import type {
  AuthorizationAnswer,
  AuthorizationRecord,
  AuthorizationRequest,
  EnrolledCard,
  IssuerCertificate,
  MandatePeriod,
} from "@mpay/protocol";

export interface IssuerListing {
  issuerId: string;
  name: string;
  /** The network root's JWS: the wallet verifies it; the pay server only relays it. */
  certificate: string;
}

export interface EnrollmentStarted {
  enrollmentId: string;
  codeSentTo: string;
  expiresAt: Date;
}

/** A card-on-file token as the issuer issued it, with the schedule it holds every charge to. */
export interface RecurringToken {
  token: string;
  cardRef: string;
  merchantId: string;
  maxAmount: number;
  period: MandatePeriod;
  currency: string;
  expiresAt: Date;
}

export interface IssuerConnector {
  readonly name: string;
  /** The issuers this connector reaches, with their certificates. */
  listIssuers(): Promise<IssuerListing[]>;
  /** Forwards the wallet's enrollment JWE (opaque here); the issuer sends the cardholder a one-time code. */
  enroll(issuerId: string, input: { enrollment: string; payerRef: string }): Promise<EnrollmentStarted>;
  verifyEnrollment(issuerId: string, enrollmentId: string, code: string): Promise<EnrolledCard>;
  /** This method needs to be idempotent at the issuer: a repeat of one payment gets the first decision. */
  authorize(issuerId: string, request: AuthorizationRequest): Promise<AuthorizationAnswer>;
  /** Idempotent by `operationId`. */
  capture(
    issuerId: string,
    paymentId: string,
    input: { operationId: string; amount: number },
  ): Promise<AuthorizationRecord>;
  /** Idempotent by `operationId`. */
  void(issuerId: string, paymentId: string, input: { operationId: string }): Promise<AuthorizationRecord>;
  /** Idempotent by `operationId`. */
  refund(
    issuerId: string,
    paymentId: string,
    input: { operationId: string; amount: number },
  ): Promise<AuthorizationRecord>;
  /** The issuer's books for one payment; null when the issuer never received it. */
  inquire(issuerId: string, paymentId: string): Promise<AuthorizationRecord | null>;
  /** Unbinds a device key from every card it was enrolled with; resolves only on the issuer's acknowledgement. */
  unbindDevice(issuerId: string, deviceKid: string): Promise<{ bindings: number }>;
  createRecurringToken(issuerId: string, input: { mandate: string; payerRef: string }): Promise<RecurringToken>;
  revokeRecurringToken(issuerId: string, token: string): Promise<void>;
}

export type IssuerErrorKind = "refused" | "unavailable" | "not_sent";

export class IssuerError extends Error {
  constructor(
    readonly kind: IssuerErrorKind,
    /** The issuer's error code for `refused`; `issuer_unavailable` or `issuer_timeout` otherwise. */
    readonly code: string,
    message: string,
    /** HTTP status the issuer answered with, when it answered. */
    readonly status?: number,
  ) {
    super(message);
    this.name = "IssuerError";
  }
}

export type { IssuerCertificate };
