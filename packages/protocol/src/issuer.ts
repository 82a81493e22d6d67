/**
 * The card-issuer network as the pay server, the wallet and the issuer host see it (DESIGN.md "Split custody",
 * issue 4). Defined once, here: the issuer host validates every request with these schemas, the pay server's
 * connector builds them, and the wallet builds the encrypted parts.
 *
 * What crosses which hop:
 * - wallet → issuer, through the pay server, encrypted: the enrollment (PAN, expiry, CVC, device key) and each
 *   payment's card data with the signed terms (sign-then-encrypt). The pay server relays JWEs it cannot open.
 * - pay server → issuer, in clear over the acquirer link: the terms of the request (so the issuer can check them
 *   against what the device signed), the authentication result, captures, voids, refunds, inquiries, unbinds.
 *
 * Cryptography (the only algorithms accepted anywhere; RSA1_5, dir and PBES2 above all are refused):
 * - JWE: `alg` ECDH-ES+A256KW on P-256, `enc` A256GCM, `kid` = the issuer key's kid from its certificate.
 * - JWS: ES256. The device signs with its bound key (`kid` = RFC 7638 thumbprint of its public JWK); the network
 *   root signs issuer certificates; the pay server signs PIN authentication statements.
 */
import { z } from "zod";
import { approvalTermsSchema } from "./approval.ts";
import { mandatePeriodProblem, mandatePeriodSchema } from "./mandate-period.ts";

export const JWE_KEY_MANAGEMENT_ALGORITHMS = ["ECDH-ES+A256KW"] as const;
export const JWE_CONTENT_ENCRYPTION_ALGORITHMS = ["A256GCM"] as const;
export const JWS_ALGORITHMS = ["ES256"] as const;

/** JWS/JWE `typ` values: each kind of signed or encrypted object has its own, so one never passes as another. */
export const JOSE_TYPES = {
  /** Network root → issuer certificate. */
  issuerCertificate: "mpay-issuer-cert+jws",
  /** Network root → certificate of the pay server's PIN-statement key (network.ts). */
  statementKeyCertificate: "mpay-statement-key-cert+jws",
  /** Wallet → issuer, enrollment data. */
  enrollment: "mpay-enrollment+jwe",
  /** Device-signed payment (terms + card), inside `paymentEnvelope`. */
  payment: "mpay-payment+jws",
  paymentEnvelope: "mpay-payment+jwe",
  /** Device-signed card-on-file mandate, inside `mandateEnvelope`. */
  mandate: "mpay-mandate+jws",
  mandateEnvelope: "mpay-mandate+jwe",
  /** Pay server → issuer: the PIN was verified over OPAQUE for this challenge. */
  pinStatement: "mpay-pin-statement+jws",
  /** Pay server → the card's device, for one payment: K_srv and the sealed records, to the device's one-time key. */
  release: "mpay-release+jwe",
} as const;

/** Issuer ids are short lowercase names (`sampo`), used in URLs and as the terms' `aud`. */
export const issuerIdSchema = z.string().regex(/^[a-z][a-z0-9-]{1,31}$/);

/** A BIN range: every PAN whose first `from.length` digits lie in [from, to]. Both bounds have 6 to 8 digits. */
export const binRangeSchema = z
  .strictObject({ from: z.string().regex(/^\d{6,8}$/), to: z.string().regex(/^\d{6,8}$/) })
  .refine((r) => r.from.length === r.to.length && r.from <= r.to, "a BIN range has bounds of one length, from ≤ to");
export type BinRange = z.infer<typeof binRangeSchema>;

export const ecPublicJwkSchema = z.object({
  kty: z.literal("EC"),
  crv: z.literal("P-256"),
  x: z.string().min(43).max(43),
  y: z.string().min(43).max(43),
});
export type EcPublicJwk = z.infer<typeof ecPublicJwkSchema>;

/** The payload a card-network root signs (JWS `typ` issuerCertificate, `kid` the root's). */
export const issuerCertificateSchema = z.strictObject({
  issuerId: issuerIdSchema,
  /** The card company's display name. */
  name: z.string().min(1).max(100),
  binRanges: z.array(binRangeSchema).min(1).max(64),
  /** The issuer's encryption key: wallets encrypt to it (ECDH-ES+A256KW). */
  jwk: ecPublicJwkSchema,
  kid: z.string().min(1).max(64),
  nbf: z.number().int().nonnegative(),
  exp: z.number().int().nonnegative(),
});
export type IssuerCertificate = z.infer<typeof issuerCertificateSchema>;

/** True when `pan`'s BIN falls in one of the ranges. */
export function binInRanges(pan: string, ranges: readonly BinRange[]): boolean {
  return ranges.some((r) => {
    const bin = pan.slice(0, r.from.length);
    return bin.length === r.from.length && bin >= r.from && bin <= r.to;
  });
}

/** Luhn check of a card number (digits only). */
export function luhnValid(pan: string): boolean {
  if (!/^\d{12,19}$/.test(pan)) return false;
  let sum = 0;
  for (let i = 0; i < pan.length; i++) {
    let digit = pan.charCodeAt(pan.length - 1 - i) - 48;
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

export const panSchema = z.string().refine(luhnValid, "a card number is 12-19 digits with a valid check digit");
/** `MM/YY` as printed on the card. */
export const expirySchema = z.string().regex(/^(0[1-9]|1[0-2])\/\d{2}$/);
export const cvcSchema = z.string().regex(/^\d{3,4}$/);

/** A passkey the payer registered, bound at the issuer so that it can verify assertions itself. */
export const boundPasskeySchema = z.strictObject({
  /** base64url credential id. */
  id: z.string().min(1).max(1024),
  /** base64url COSE public key. */
  publicKey: z.string().min(1).max(2048),
});
export type BoundPasskey = z.infer<typeof boundPasskeySchema>;

/** What the wallet encrypts to the issuer at enrollment (JWE `typ` enrollment). */
export const enrollmentPayloadSchema = z.strictObject({
  pan: panSchema,
  expiry: expirySchema,
  cvc: cvcSchema,
  /** The device key the issuer binds: it verifies every later payment's signature against it. */
  deviceKey: ecPublicJwkSchema,
  passkeys: z.array(boundPasskeySchema).max(10).optional(),
  iat: z.number().int().nonnegative(),
});
export type EnrollmentPayload = z.infer<typeof enrollmentPayloadSchema>;

/** The card data inside a payment's signed payload. */
export const cardDataSchema = z.strictObject({ pan: panSchema, expiry: expirySchema });
export type CardData = z.infer<typeof cardDataSchema>;

/** The device-signed payload inside a payment's JWE (JWS `typ` payment): the terms and the card, bound together. */
export const paymentPayloadSchema = z.strictObject({ terms: approvalTermsSchema, card: cardDataSchema });
export type PaymentPayload = z.infer<typeof paymentPayloadSchema>;

/**
 * The card-on-file mandate a payer consents to (JWS `typ` mandate, inside a JWE `typ` mandateEnvelope). Its
 * schedule — `maxAmount` per charge, `period` (the most charges and total per period) and the end date
 * `expiresAt` — is what the issuer enforces on every charge, from this signed consent.
 */
export const mandateTermsSchema = z
  .strictObject({
    aud: issuerIdSchema,
    cardRef: z.string().min(1).max(128),
    merchantId: z.string().min(1).max(64),
    merchantName: z.string().min(1).max(100),
    /** The most a single charge may take, in minor units. */
    maxAmount: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
    /** The most charges, and the most money, in one period (mandate-period.ts). */
    period: mandatePeriodSchema,
    currency: z.string().length(3),
    /** Unix seconds: the end date, after which every charge is declined. */
    expiresAt: z.number().int().positive(),
    nonce: z.string().regex(/^[A-Za-z0-9_-]{22,64}$/),
    iat: z.number().int().nonnegative(),
  })
  .superRefine((terms, context) => {
    const problem = mandatePeriodProblem(terms.maxAmount, terms.period);
    if (problem) context.addIssue({ code: "custom", path: ["period", "maxTotal"], message: problem });
  });
export type MandateTerms = z.infer<typeof mandateTermsSchema>;
export const mandatePayloadSchema = z.strictObject({ mandate: mandateTermsSchema, card: cardDataSchema });

/** The pay server's statement that the payer's PIN was verified (OPAQUE) for one challenge (JWS `typ` pinStatement). */
export const pinStatementSchema = z.strictObject({
  iss: z.string().min(1).max(100),
  aud: issuerIdSchema,
  method: z.literal("pin"),
  paymentId: z.string().min(1).max(64),
  challengeId: z.string().min(1).max(64),
  /** base64url SHA-256 of the canonical terms. */
  termsHash: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  /** The device that signed the terms. */
  deviceKid: z.string().min(1).max(64),
  iat: z.number().int().nonnegative(),
  exp: z.number().int().nonnegative(),
});
export type PinStatement = z.infer<typeof pinStatementSchema>;

export const authenticationResultSchema = z.discriminatedUnion("method", [
  z.strictObject({ method: z.literal("pin"), statement: z.string().min(1).max(4096) }),
  /** A WebAuthn assertion whose challenge is the terms' hash, verified against a passkey bound at enrollment. */
  z.strictObject({ method: z.literal("passkey"), assertion: z.record(z.string(), z.unknown()) }),
]);
export type AuthenticationResult = z.infer<typeof authenticationResultSchema>;

export const compactJweSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/)
  .max(16_384);

// --- requests the pay server sends (the acquirer link) ---

export const enrollmentRequestSchema = z.strictObject({
  enrollment: compactJweSchema,
  /** The pay server's id for the payer (opaque to the issuer; enrollment tries are limited per payer too). */
  payerRef: z.string().min(1).max(64),
});

export const enrollmentVerifyRequestSchema = z.strictObject({ code: z.string().regex(/^\d{6}$/) });

/** The terms of the payment as the pay server asks for them; the issuer compares them with what the device signed. */
const paymentRequestFields = approvalTermsSchema.pick({
  paymentId: true,
  merchantId: true,
  merchantName: true,
  amount: true,
  currency: true,
  captureMethod: true,
}).shape;

export const authorizationRequestSchema = z.union([
  z.strictObject({
    ...paymentRequestFields,
    cardRef: z.string().min(1).max(128),
    payment: compactJweSchema,
    authentication: authenticationResultSchema,
  }),
  /** A merchant-initiated charge with a card-on-file token (no device, no payer present). */
  z.strictObject({ ...paymentRequestFields, recurringToken: z.string().min(1).max(128) }),
]);
export type AuthorizationRequest = z.infer<typeof authorizationRequestSchema>;

/** Captures, voids and refunds carry the pay server's operation id: a retry with the same id has one effect. */
export const amountOperationSchema = z.strictObject({
  operationId: z.string().min(1).max(64),
  amount: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
});
export const voidOperationSchema = z.strictObject({ operationId: z.string().min(1).max(64) });

export const mandateRequestSchema = z.strictObject({ mandate: compactJweSchema, payerRef: z.string().min(1).max(64) });

// --- answers ---

export const DECLINE_CODES = [
  "insufficient_funds",
  "expired_card",
  "lost_or_stolen",
  "suspected_fraud",
  "bad_signature",
  /** The authentication result is missing, forged, or not enough for the amount under the issuer's limits. */
  "authentication_failed",
  "card_not_found",
  "terms_mismatch",
  "terms_expired",
  "token_invalid",
  "token_over_cap",
  "token_expired",
  /** Mandate charge: the period's count or total that the payer consented to is reached (mandate-period.ts). */
  "mandate_limit_exceeded",
  /** The issuer converts no purchase in this currency to the card's: it has no reference rate for it. */
  "currency_not_supported",
  "do_not_honor",
  /** Never sent by an issuer: the pay server's record of an authorization the issuer never received before its terms expired. */
  "issuer_unavailable",
] as const;
export type DeclineCode = (typeof DECLINE_CODES)[number];

export const authorizationAnswerSchema = z.discriminatedUnion("decision", [
  z.strictObject({
    paymentId: z.string(),
    decision: z.literal("approved"),
    authorizationCode: z.string().regex(/^[A-Z0-9]{6}$/),
    decidedAt: z.string(),
  }),
  z.strictObject({
    paymentId: z.string(),
    decision: z.literal("declined"),
    declineCode: z.enum(DECLINE_CODES),
    decidedAt: z.string(),
  }),
]);
export type AuthorizationAnswer = z.infer<typeof authorizationAnswerSchema>;

export const AUTHORIZATION_STATUSES = ["approved", "declined", "captured", "voided"] as const;

/** An inquiry's answer: the issuer's books for one payment. */
export const authorizationRecordSchema = z.strictObject({
  paymentId: z.string(),
  status: z.enum(AUTHORIZATION_STATUSES),
  decision: authorizationAnswerSchema,
  amount: z.number().int(),
  amountCaptured: z.number().int(),
  amountRefunded: z.number().int(),
  currency: z.string().length(3),
});
export type AuthorizationRecord = z.infer<typeof authorizationRecordSchema>;

export const enrollmentStartedSchema = z.strictObject({
  enrollmentId: z.string(),
  status: z.literal("verification_required"),
  /** The phone on file, masked (`+82 10-****-5678`). */
  codeSentTo: z.string(),
  expiresAt: z.string(),
});

export const CARD_BRANDS = ["visa", "mastercard", "amex", "local"] as const;

export const enrolledCardSchema = z.strictObject({
  cardRef: z.string(),
  brand: z.enum(CARD_BRANDS),
  last4: z.string().regex(/^\d{4}$/),
  /** `YYYY-MM`. */
  expiryMonth: z.string().regex(/^\d{4}-\d{2}$/),
  deviceKid: z.string(),
});
export type EnrolledCard = z.infer<typeof enrolledCardSchema>;

export const recurringTokenSchema = z.strictObject({
  token: z.string(),
  cardRef: z.string(),
  merchantId: z.string(),
  maxAmount: z.number().int(),
  /** The per-period limits the payer signed, as the issuer stored them with the token. */
  period: mandatePeriodSchema,
  currency: z.string().length(3),
  expiresAt: z.string(),
});

/**
 * Error codes of the issuer host's API (not declines: a decline is a 200 with `decision: "declined"`). Enrollment
 * refusals never say which field was wrong.
 */
export const ISSUER_ERROR_CODES = [
  "request_invalid",
  "acquirer_unauthorized",
  "issuer_unknown",
  "enrollment_refused",
  "enrollment_locked",
  "enrollment_expired",
  "verification_code_invalid",
  "authorization_not_found",
  "amount_exceeds_authorized",
  "amount_exceeds_captured",
  "operation_not_allowed",
  "device_not_bound",
  "token_not_found",
  /** A card-on-file mandate that does not verify or does not match the card (one message, like enrollment). */
  "mandate_refused",
  /** The back office's operator token is missing or wrong. */
  "operator_unauthorized",
  /** The back office knows no such card. */
  "card_not_found",
  /** Witness: the audit head does not verify under the key sent with it, or that key is mislabelled. */
  "audit_head_invalid",
  /** Witness: the head is signed by another key than the one pinned with the first head (a new key is a new log). */
  "audit_key_changed",
  /** Witness: a head with fewer entries than the newest one it holds (the log would have shrunk). */
  "audit_head_shrunk",
  /** Witness: a head with as many entries as one it holds, but another hash (the log was rewritten). */
  "audit_head_forked",
  "route_not_found",
  /** The issuer cannot decide now (for example the pay server's PIN statement keys cannot be fetched): retry or inquire. */
  "temporarily_unavailable",
  "internal_error",
] as const;
export type IssuerErrorCode = (typeof ISSUER_ERROR_CODES)[number];

/** The body of every issuer host error (HTTP 4xx/5xx): a stable code and a message that echoes no input. */
export const issuerErrorBodySchema = z.object({
  error: z.object({ code: z.enum(ISSUER_ERROR_CODES), message: z.string() }),
});

/** `GET /issuers` lists these; `GET /issuers/:issuerId/certificate` answers one. */
export const issuerDirectoryEntrySchema = z.strictObject({
  issuerId: issuerIdSchema,
  name: z.string(),
  /** The network's certificate (compact JWS, `typ` issuerCertificate): verify it before trusting anything here. */
  certificate: z.string(),
});
export type IssuerDirectoryEntry = z.infer<typeof issuerDirectoryEntrySchema>;

export const ISSUER_OPERATION_TYPES = ["capture", "void", "refund"] as const;

/** The answer to a capture, void or refund; a retry with the same operationId gets this same answer again. */
export const issuerOperationAnswerSchema = z.strictObject({
  operationId: z.string(),
  paymentId: z.string(),
  type: z.enum(ISSUER_OPERATION_TYPES),
  /** The amount moved (a void's is the hold it released). */
  amount: z.number().int(),
  processedAt: z.string(),
  /** The payment's books after the operation. */
  authorization: authorizationRecordSchema,
});
export type IssuerOperationAnswer = z.infer<typeof issuerOperationAnswerSchema>;

/** `POST /issuers/:issuerId/devices/:kid/unbind`: how many card bindings of the device this call unbound (0 on a retry). */
export const deviceUnbindAnswerSchema = z.strictObject({
  unbound: z.literal(true),
  bindings: z.number().int().nonnegative(),
});

export const recurringTokenRevokedSchema = z.strictObject({ revoked: z.literal(true), revokedAt: z.string() });

// --- the simulator's own views (not part of a real issuer's interface) ---

/** `GET /test-inbox?phone=…`: the one-time codes "sent" to a phone, newest first. */
export const testInboxSchema = z.strictObject({
  phone: z.string(),
  messages: z.array(
    z.strictObject({
      issuerId: z.string(),
      issuerName: z.string(),
      code: z.string(),
      text: z.string(),
      sentAt: z.string(),
      expiresAt: z.string(),
    }),
  ),
});

/** The back office's view of one card (operator token), as the demo prints it. */
export const backofficeCardSchema = z.strictObject({
  cardRef: z.string(),
  /** `4111 •••• •••• 0016`. */
  maskedPan: z.string(),
  brand: z.enum(CARD_BRANDS),
  expiryMonth: z.string(),
  status: z.string(),
  currency: z.string(),
  creditLimit: z.number().int(),
  openToBuy: z.number().int(),
  /** `amount` is what the hold takes of open-to-buy, in the card's `currency`; the purchase is in its own. */
  holds: z.array(
    z.strictObject({
      paymentId: z.string(),
      merchantId: z.string(),
      amount: z.number().int(),
      transactionAmount: z.number().int(),
      transactionCurrency: z.string(),
      authorizationCode: z.string(),
    }),
  ),
  /** In the card's currency, as every amount of the books. */
  captured: z.number().int(),
  refunded: z.number().int(),
  /** creditLimit − openToBuy = holds + captured − refunded. */
  books: z.strictObject({
    balanced: z.boolean(),
    creditUsed: z.number().int(),
    holds: z.number().int(),
    captured: z.number().int(),
    refunded: z.number().int(),
  }),
  deviceBindings: z.array(
    z.strictObject({
      deviceKid: z.string(),
      boundAt: z.string(),
      unboundAt: z.string().nullable(),
      passkeys: z.number().int(),
    }),
  ),
  /**
   * Each token with the schedule the payer signed and what it charged in the current period (`start` in UTC);
   * both null for a token issued before schedules were signed (its charges are declined).
   */
  recurringTokens: z.array(
    z.strictObject({
      merchantId: z.string(),
      /** The mandate's currency: its cap, period total and charges are in it, whatever the card's is. */
      currency: z.string(),
      maxAmount: z.number().int(),
      period: mandatePeriodSchema.nullable(),
      thisPeriod: z.strictObject({ start: z.string(), charges: z.number().int(), total: z.number().int() }).nullable(),
      expiresAt: z.string(),
      revokedAt: z.string().nullable(),
    }),
  ),
});
export type BackofficeCard = z.infer<typeof backofficeCardSchema>;

/**
 * The back office's statement of one card: its authorizations, newest first, each in the purchase's currency
 * (`transaction`, what the merchant asked) and in the card's (`billing`, what open-to-buy and the cardholder's
 * statement show), with the rate and fee that convert one to the other. `fx` is null for a purchase in the card's
 * own currency; `billing` and `fx` are null for one the issuer could not convert (`currency_not_supported`).
 */
export const backofficeStatementSchema = z.strictObject({
  cardRef: z.string(),
  currency: z.string(),
  authorizations: z.array(
    z.strictObject({
      paymentId: z.string(),
      merchantId: z.string(),
      merchantName: z.string(),
      status: z.enum(AUTHORIZATION_STATUSES),
      declineCode: z.string().nullable(),
      authorizationCode: z.string().nullable(),
      decidedAt: z.string(),
      transaction: z.strictObject({
        amount: z.number().int(),
        currency: z.string(),
        captured: z.number().int(),
        refunded: z.number().int(),
      }),
      billing: z
        .strictObject({
          amount: z.number().int(),
          currency: z.string(),
          held: z.number().int(),
          captured: z.number().int(),
          refunded: z.number().int(),
        })
        .nullable(),
      fx: z
        .strictObject({
          /** Units of the card's currency per unit of the purchase's ("1380.00" KRW per USD). */
          rate: z.string(),
          feeBps: z.number().int(),
        })
        .nullable(),
    }),
  ),
});
export type BackofficeStatement = z.infer<typeof backofficeStatementSchema>;
