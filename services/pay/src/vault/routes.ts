import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import {
  cardEnrollmentRequestSchema,
  cardEnrollmentVerifyRequestSchema,
  cardEnrollmentViewSchema,
  cardListSchema,
  cardRecordsRequestSchema,
  cardViewSchema,
  issuerListSchema,
  removeCardRequestSchema,
  type CardView,
} from "@mpay/protocol";
import { errorResponse, idParam } from "../http/route-kit.ts";
import type { IssuerService } from "../issuers/service.ts";
import { payerOf } from "../payers/session.ts";
import type { VaultService } from "./service.ts";
import type { CardRow } from "./store.ts";

const errors = {
  400: errorResponse,
  401: errorResponse,
  403: errorResponse,
  404: errorResponse,
  409: errorResponse,
  429: errorResponse,
  503: errorResponse,
};

/** What the payer's screens show of a card (packages/protocol payer-api/cards.ts). */
export function cardView(card: CardRow): CardView {
  return {
    id: card.id,
    object: "card" as const,
    issuerId: card.issuerId,
    cardRef: card.cardRef,
    brand: card.brand as CardView["brand"],
    last4: card.last4,
    expiryMonth: card.expiryMonth,
    status: card.status,
    deviceId: card.deviceId,
    recordVersion: card.recordVersion,
    createdAt: card.createdAt.toISOString(),
  };
}

/** The payer's cards: enrollment through the issuer, the sealed records and server share, removal. */
export function cardRoutes(app: FastifyInstance, vault: VaultService, issuers: IssuerService): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    "/v1/payer/issuers",
    {
      schema: {
        tags: ["payer"],
        description:
          "The card issuers and their certificates from the card network. The wallet verifies each certificate against the network roots it ships with: it trusts no key for being listed here.",
        response: { 200: issuerListSchema, ...errors },
      },
    },
    // The session hook alone: the list is the same for every payer, but only a signed-in wallet asks for it.
    async () => ({ object: "list" as const, data: await issuers.list(), hasMore: false }),
  );

  r.post(
    "/v1/payer/cards/enrollments",
    {
      schema: {
        tags: ["payer"],
        description:
          "Relays the wallet's enrollment JWE (PAN, expiry, CVC and the device key, encrypted to the issuer's certified key) to the issuer, which sends the cardholder a one-time code. deviceSignature is { purpose: enroll-card, payerId, issuerId, enrollmentHash (base64url SHA-256 of the JWE), nonce } signed by an active device.",
        body: cardEnrollmentRequestSchema,
        response: { 200: cardEnrollmentViewSchema, ...errors },
      },
    },
    async (request) => {
      const payer = payerOf(request);
      const started = await vault.startEnrollment(payer, request.body, request.ip);
      return {
        id: started.id,
        object: "card_enrollment" as const,
        status: started.status,
        codeSentTo: started.codeSentTo,
        expiresAt: started.expiresAt.toISOString(),
      };
    },
  );

  r.post(
    "/v1/payer/cards/enrollments/:id/verify",
    {
      schema: {
        tags: ["payer"],
        params: idParam,
        body: cardEnrollmentVerifyRequestSchema,
        response: { 200: cardViewSchema, ...errors },
      },
    },
    async (request) => cardView(await vault.verifyEnrollment(payerOf(request), request.params.id, request.body.code)),
  );

  r.post(
    "/v1/payer/cards/:id/records",
    {
      schema: {
        tags: ["payer"],
        description:
          "The card's records sealed on the device under the DEK, and the server's share K_srv (wrapped by the vault KEK at once). Signed by the card's device.",
        params: idParam,
        body: cardRecordsRequestSchema,
        response: { 200: cardViewSchema, ...errors },
      },
    },
    async (request) => cardView(await vault.storeRecords(payerOf(request), request.params.id, request.body)),
  );

  r.get(
    "/v1/payer/cards",
    { schema: { tags: ["payer"], response: { 200: cardListSchema, ...errors } } },
    async (request) => ({
      object: "list" as const,
      data: (await vault.list(payerOf(request))).map(cardView),
      hasMore: false,
    }),
  );

  r.post(
    "/v1/payer/cards/:id/remove",
    {
      schema: {
        tags: ["payer"],
        description:
          "Removes a card: its server share and sealed records are deleted. deviceSignature is { purpose: remove-card, payerId, cardId } signed by an active device.",
        params: idParam,
        body: removeCardRequestSchema,
        response: { 200: cardViewSchema, ...errors },
      },
    },
    async (request) => cardView(await vault.remove(payerOf(request), request.params.id, request.body.deviceSignature)),
  );
}
