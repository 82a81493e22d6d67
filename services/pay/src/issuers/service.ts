/**
 * The card issuers as the rest of the pay server sees them: which issuers exist (with the certificates wallets
 * verify), and one connector call per operation with the connector's failures turned into API errors. Contexts
 * call this service, never a connector directly, so the choice of connector per issuer lives in one place.
 */
import { ApiError } from "../http/errors.ts";
import type { AuthorizationAnswer, AuthorizationRecord, AuthorizationRequest } from "@mpay/protocol";
import { systemClock, type Clock } from "@mpay/service-kit";
import { IssuerError, type IssuerConnector, type IssuerListing, type RecurringToken } from "./connector.ts";
import { DEFAULT_BREAKER_SETTINGS, type BreakerSettings, type BreakerState } from "./breaker.ts";
import { GuardedConnector } from "./guarded.ts";
import { PARTIAL_LISTINGS } from "./registry.ts";

const LISTING_TTL_MS = 60_000;
/** A listing a host was missing from is asked again soon, so an issuer that came back is listed again. */
const PARTIAL_LISTING_TTL_MS = 5_000;

export interface IssuerServiceOptions {
  clock?: Clock;
  breaker?: BreakerSettings;
  /** Told of every breaker state change (system.ts logs it). */
  onBreakerChange?: (issuerId: string, state: BreakerState) => void;
}

/** How each issuer refusal reads to the payer (enrollment refusals never say which field was wrong). */
const REFUSALS: Record<string, () => ApiError> = {
  enrollment_refused: () =>
    new ApiError(
      "card_enrollment_refused",
      "The card issuer could not enroll this card. Check the card details and try again.",
    ),
  enrollment_locked: () =>
    new ApiError(
      "card_enrollment_locked",
      "Too many attempts for this card: the card issuer has paused its enrollment. Try again later or call the card company.",
    ),
  enrollment_expired: () => new ApiError("card_enrollment_expired", "The enrollment expired; start again."),
  verification_code_invalid: () =>
    new ApiError("verification_code_invalid", "The code is not correct, or was already used."),
  issuer_unknown: () => new ApiError("issuer_unknown", "No such card issuer.", "issuerId"),
};

export class IssuerService {
  #listing: { at: number; issuers: Promise<IssuerListing[]>; ttlMs: number } | undefined;
  /** Every call goes through the issuer's circuit breaker (breaker.ts). */
  private readonly connector: GuardedConnector;
  readonly #clock: Clock;

  constructor(connector: IssuerConnector, options: IssuerServiceOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.connector = new GuardedConnector(
      connector,
      options.breaker ?? DEFAULT_BREAKER_SETTINGS,
      this.#clock,
      options.onBreakerChange,
    );
  }

  /**
   * The issuers and their certificates (cached for a minute; the wallet checks each certificate itself). With
   * issuers on several hosts, a host that does not answer leaves its issuers out; the others are listed.
   */
  async list(): Promise<IssuerListing[]> {
    const now = this.#clock.now().getTime();
    if (!this.#listing || now - this.#listing.at > this.#listing.ttlMs) {
      const issuers = this.connector.listIssuers();
      const listing = { at: now, issuers, ttlMs: LISTING_TTL_MS };
      this.#listing = listing;
      issuers.then(
        (answered) => PARTIAL_LISTINGS.has(answered) && (listing.ttlMs = PARTIAL_LISTING_TTL_MS),
        () => this.#listing === listing && (this.#listing = undefined),
      );
    }
    try {
      return await this.#listing.issuers;
    } catch (error) {
      throw toApiError(error);
    }
  }

  /** Each issuer's circuit breaker state, for the metrics gauge (an issuer not yet called is not listed). */
  breakerStates(): Array<{ issuerId: string; state: BreakerState }> {
    return this.connector.states();
  }

  /**
   * Fails fast with 503 `issuer_unavailable` while the issuer's breaker is open: a caller that records an operation
   * before sending it asks here first, so that nothing is recorded for a request that would not be sent.
   */
  assertAvailable(issuerId: string): void {
    if (!this.connector.wouldSend(issuerId))
      throw toApiError(new IssuerError("not_sent", "issuer_unavailable", "the issuer's circuit breaker is open"));
  }

  async requireKnown(issuerId: string): Promise<void> {
    if (!(await this.list()).some((i) => i.issuerId === issuerId))
      throw new ApiError("issuer_unknown", "No such card issuer.", "issuerId");
  }

  /** Runs a connector call; an issuer's refusal or silence becomes an ApiError the payer can act on. */
  async call<T>(work: (connector: IssuerConnector) => Promise<T>): Promise<T> {
    try {
      return await work(this.connector);
    } catch (error) {
      throw toApiError(error);
    }
  }

  // The calls below throw the connector's IssuerError as is: their callers record each one as an issuer operation
  // and must tell a refusal (nothing happened at the issuer) from silence (the outcome is unknown, to be settled),
  // and both from `not_sent` (the breaker kept the request here: nothing happened, and the issuer said nothing).

  /** This method needs to be idempotent at the issuer: a repeat of one payment gets the first decision. */
  authorize(issuerId: string, request: AuthorizationRequest): Promise<AuthorizationAnswer> {
    return this.connector.authorize(issuerId, request);
  }

  /** Idempotent by `operationId`. */
  capture(
    issuerId: string,
    paymentId: string,
    input: { operationId: string; amount: number },
  ): Promise<AuthorizationRecord> {
    return this.connector.capture(issuerId, paymentId, input);
  }

  /** Idempotent by `operationId`. */
  void(issuerId: string, paymentId: string, input: { operationId: string }): Promise<AuthorizationRecord> {
    return this.connector.void(issuerId, paymentId, input);
  }

  /** Idempotent by `operationId`. */
  refund(
    issuerId: string,
    paymentId: string,
    input: { operationId: string; amount: number },
  ): Promise<AuthorizationRecord> {
    return this.connector.refund(issuerId, paymentId, input);
  }

  /** The issuer's books for one payment; null when the issuer never received it. */
  inquire(issuerId: string, paymentId: string): Promise<AuthorizationRecord | null> {
    return this.connector.inquire(issuerId, paymentId);
  }

  /** Resolves only on the issuer's acknowledgement; the caller retries until then. */
  unbindDevice(issuerId: string, deviceKid: string): Promise<{ bindings: number }> {
    return this.connector.unbindDevice(issuerId, deviceKid);
  }

  createRecurringToken(issuerId: string, input: { mandate: string; payerRef: string }): Promise<RecurringToken> {
    return this.connector.createRecurringToken(issuerId, input);
  }

  revokeRecurringToken(issuerId: string, token: string): Promise<void> {
    return this.connector.revokeRecurringToken(issuerId, token);
  }
}

export function toApiError(error: unknown): unknown {
  if (!(error instanceof IssuerError)) return error;
  if (error.kind === "unavailable" || error.kind === "not_sent")
    return new ApiError("issuer_unavailable", "The card issuer is not answering right now; try again shortly.");
  const refusal = REFUSALS[error.code];
  return refusal
    ? refusal()
    : new ApiError("issuer_unavailable", `The card issuer refused the request (${error.code.slice(0, 40)}).`);
}
