/**
 * The card issuers as the rest of the pay server sees them: which issuers exist (with the certificates wallets
 * verify), and one connector call per operation with the connector's failures turned into API errors. Contexts
 * call this service, never a connector directly, so the choice of connector per issuer lives in one place.
 */
import { ApiError } from "../http/errors.ts";
import type { AuthorizationAnswer, AuthorizationRecord, AuthorizationRequest } from "@mpay/protocol";
import { IssuerError, type IssuerConnector, type IssuerListing, type RecurringToken } from "./connector.ts";

const LISTING_TTL_MS = 60_000;

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
  #listing: { at: number; issuers: Promise<IssuerListing[]> } | undefined;

  constructor(private readonly connector: IssuerConnector) {}

  /** The issuers and their certificates (cached for a minute; the wallet checks each certificate itself). */
  async list(): Promise<IssuerListing[]> {
    const now = Date.now();
    if (!this.#listing || now - this.#listing.at > LISTING_TTL_MS) {
      const issuers = this.connector.listIssuers();
      this.#listing = { at: now, issuers };
      issuers.catch(() => (this.#listing = undefined));
    }
    try {
      return await this.#listing.issuers;
    } catch (error) {
      throw toApiError(error);
    }
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
  // and must tell a refusal (nothing happened at the issuer) from silence (the outcome is unknown, to be settled).

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
  if (error.kind === "unavailable")
    return new ApiError("issuer_unavailable", "The card issuer is not answering right now; try again shortly.");
  const refusal = REFUSALS[error.code];
  return refusal
    ? refusal()
    : new ApiError("issuer_unavailable", `The card issuer refused the request (${error.code.slice(0, 40)}).`);
}
