/** The payer's cards: the issuers to enroll with, enrollment through the issuer, the sealed records, removal. */
import {
  cardEnrollmentViewSchema,
  cardListSchema,
  cardViewSchema,
  issuerListSchema,
  type CardEnrollmentRequest,
  type CardEnrollmentView,
  type CardRecordsRequest,
  type CardView,
  type IssuerListingView,
} from "@mpay/protocol";
import { segment, type PayRequester } from "./request.ts";

export type Card = CardView;
export type CardEnrollment = CardEnrollmentView;
export type IssuerListing = IssuerListingView;

export class Cards {
  readonly #core: PayRequester;

  constructor(core: PayRequester) {
    this.#core = core;
  }

  /** The issuers with their network certificates (unverified here: the wallet verifies them before any use). */
  async issuers(): Promise<IssuerListing[]> {
    return (await this.#core.request("GET", "/v1/payer/issuers", issuerListSchema)).data;
  }

  startEnrollment(input: CardEnrollmentRequest): Promise<CardEnrollment> {
    return this.#core.request("POST", "/v1/payer/cards/enrollments", cardEnrollmentViewSchema, input);
  }

  verifyEnrollment(enrollmentId: string, code: string): Promise<Card> {
    return this.#core.request("POST", `/v1/payer/cards/enrollments/${segment(enrollmentId)}/verify`, cardViewSchema, {
      code,
    });
  }

  storeRecords(cardId: string, input: CardRecordsRequest): Promise<Card> {
    return this.#core.request("POST", `/v1/payer/cards/${segment(cardId)}/records`, cardViewSchema, input);
  }

  async list(): Promise<Card[]> {
    return (await this.#core.request("GET", "/v1/payer/cards", cardListSchema)).data;
  }

  remove(cardId: string, deviceSignature: string): Promise<Card> {
    return this.#core.request("POST", `/v1/payer/cards/${segment(cardId)}/remove`, cardViewSchema, { deviceSignature });
  }
}
