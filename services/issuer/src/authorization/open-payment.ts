/**
 * Opens a device payment (DESIGN.md "Split custody", step 2, sign-then-encrypt): the JWE to this issuer holds a
 * JWS by the device key over `{ terms, card }`. The signature is verified against the key bound to the card the
 * request names, so a payment verifies only for a device the cardholder bound to that card.
 *
 * Which decline, when:
 * - `bad_signature`: the envelope cannot be opened by this issuer (wrong key, refused algorithm such as RSA1_5,
 *   dir or PBES2, wrong `typ`), the inner JWS is malformed, its device key is not bound to this card (never bound,
 *   unbound, revoked), or the signature does not verify (the signed bytes were altered).
 * - `terms_mismatch`: the signature is good but what it covers is not what the acquirer asks: another payment
 *   (a JWE for payment A sent as payment B), amount, currency, merchant id or name, capture method, card
 *   reference, audience (another issuer), or card data that are not this account's.
 * - `terms_expired`: outside the terms' time window (expired, not yet valid, or living longer than 5 minutes).
 */
import { createHash } from "node:crypto";
import {
  canonicalTerms,
  JOSE_TYPES,
  paymentPayloadSchema,
  termsTimeProblem,
  type ApprovalTerms,
  type DeclineCode,
} from "@mpay/protocol";
import type { IssuerCore } from "../issuer-core.ts";
import { expiryMonthOf } from "../cards/card-facts.ts";
import type { CardRow } from "../cards/store.ts";
import type { BindingRow } from "../devices/store.ts";
import { compactHeader, decryptCompact, verifyCompact } from "@mpay/crypto/node";
import type { PublicKeyCache } from "../keys/public-key-cache.ts";

export interface DevicePaymentRequest {
  paymentId: string;
  merchantId: string;
  merchantName: string;
  amount: number;
  currency: string;
  captureMethod: string;
  cardRef: string;
  payment: string;
}

type Refusal = { ok: false; decline: DeclineCode; reason: string; deviceKid?: string | undefined };

/** The envelope opened: the device's JWS inside it and the key it names, not yet verified. */
export type OpenedEnvelope = { ok: true; jws: string; header: Record<string, unknown>; deviceKid: string } | Refusal;

export type OpenedPayment = { ok: true; terms: ApprovalTerms; deviceKid: string; termsHash: string } | Refusal;

/** base64url SHA-256 of the canonical terms (as services/pay/src/approvals/terms-hash.ts). */
export function termsHashOf(terms: ApprovalTerms): string {
  return createHash("sha256").update(canonicalTerms(terms)).digest("base64url");
}

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * Decrypts the envelope with the issuer's key and reads the `kid` of the JWS inside: no database, so the key's
 * binding can be read in the same round trip as the card (authorization/store.ts `paymentFacts`).
 */
export function openEnvelope(issuer: IssuerCore, payment: string): OpenedEnvelope {
  let jws: string;
  let plaintext: Buffer | undefined;
  try {
    ({ plaintext } = decryptCompact(payment, issuer.keys.encryptionKeyObject, JOSE_TYPES.paymentEnvelope));
    jws = plaintext.toString("utf8");
  } catch {
    return { ok: false, decline: "bad_signature", reason: "the payment envelope cannot be opened by this issuer" };
  } finally {
    plaintext?.fill(0);
  }
  if (!COMPACT_JWS.test(jws))
    return { ok: false, decline: "bad_signature", reason: "the envelope does not hold a compact JWS" };
  let header: Record<string, unknown>;
  try {
    header = compactHeader(jws);
  } catch {
    header = {};
  }
  const deviceKid = header["kid"];
  if (typeof deviceKid !== "string" || deviceKid === "")
    return { ok: false, decline: "bad_signature", reason: "the payment JWS names no device key" };
  return { ok: true, jws, header, deviceKid };
}

/**
 * Verifies the opened envelope against the device key's live binding to the card the request names (null: not
 * bound, unbound or revoked), then checks what it signed against the request and the account.
 */
export function verifyPayment(
  issuer: IssuerCore,
  request: DevicePaymentRequest,
  account: CardRow,
  envelope: OpenedEnvelope,
  binding: BindingRow | null,
  deviceKeys: PublicKeyCache,
): OpenedPayment {
  if (!envelope.ok) return envelope;
  const { jws, header, deviceKid } = envelope;
  if (!binding || binding.deviceKid !== deviceKid || binding.cardRef !== account.cardRef)
    return { ok: false, decline: "bad_signature", reason: "the device key is not bound to this card", deviceKid };

  let signed: unknown;
  try {
    const { payload } = verifyCompact(jws, deviceKeys.keyOf(binding.deviceJwk), JOSE_TYPES.payment, header);
    signed = JSON.parse(payload.toString("utf8"));
  } catch {
    return { ok: false, decline: "bad_signature", reason: "the payment signature does not verify", deviceKid };
  }
  const parsed = paymentPayloadSchema.safeParse(signed);
  if (!parsed.success)
    return { ok: false, decline: "bad_signature", reason: "the signed payload is malformed", deviceKid };
  const { terms, card } = parsed.data;

  const differs = termsDifference(issuer.id, terms, request);
  if (differs)
    return {
      ok: false,
      decline: "terms_mismatch",
      reason: `the signed ${differs} differs from the request`,
      deviceKid,
    };
  if (card.pan !== account.pan || expiryMonthOf(card.expiry) !== account.expiryMonth) {
    return { ok: false, decline: "terms_mismatch", reason: "the signed card data are not this card's", deviceKid };
  }
  const problem = termsTimeProblem(terms, Math.floor(issuer.now().getTime() / 1000));
  if (problem) return { ok: false, decline: "terms_expired", reason: problem.replaceAll("_", " "), deviceKid };
  return { ok: true, terms, deviceKid, termsHash: termsHashOf(terms) };
}

/** The first field where the signed terms and the acquirer's request differ, or null. */
function termsDifference(issuerId: string, terms: ApprovalTerms, request: DevicePaymentRequest): string | null {
  if (terms.aud !== issuerId) return "audience";
  const fields = ["paymentId", "cardRef", "merchantId", "merchantName", "amount", "currency", "captureMethod"] as const;
  for (const field of fields) if (terms[field] !== request[field]) return field;
  return null;
}
