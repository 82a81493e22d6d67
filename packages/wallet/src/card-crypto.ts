/**
 * The device's card cryptography (DESIGN.md "Split custody"), with no I/O: the pay server is reached by the Wallet,
 * which calls these.
 * - Which issuer: the one whose network certificate (verified against the roots this wallet ships with) covers the
 *   card's BIN. An issuer key the pay server merely lists is never used.
 * - Enrollment: PAN, expiry, CVC and the device's public key, as a JWE to that issuer's certified key.
 * - After enrollment: a fresh DEK as two random shares; the card and personal records sealed under it.
 * - Payment: the released K_srv and records are opened with this device's one-time key, the shares combined, the
 *   card record opened, and the terms and card signed with the device key and encrypted to the issuer
 *   (sign-then-encrypt). Every secret byte array is wiped before the function returns.
 */
import {
  combineShares,
  decryptFrom,
  encryptTo,
  newKeyShares,
  openRecord,
  sealRecord,
  signWith,
  verifyIssuerCertificate,
  IssuerCertificateError,
  type NetworkRoot,
  type RecordBinding,
} from "@mpay/crypto";
import {
  cardDataSchema,
  cvcSchema,
  expirySchema,
  JOSE_TYPES,
  panSchema,
  type ApprovalTerms,
  type CardData,
  type EcPublicJwk,
  type BoundPasskey,
  type IssuerCertificate,
  type MandateTerms,
  type PayerProfile,
  payerProfileSchema,
} from "@mpay/protocol";
import canonicalize from "canonicalize";
import { base64url } from "jose";
import { WalletError } from "./errors.ts";
import { wipe } from "./secrets.ts";

/** What the payer types in: the card as printed, and optional personal data kept sealed with it. */
export interface CardDetails {
  pan: string;
  /** `MM/YY` */
  expiry: string;
  cvc: string;
  holderName?: string;
}

/** Normalises and checks what the payer typed; the message never repeats it. */
export function checkCardDetails(details: CardDetails): CardDetails {
  const pan = String(details.pan ?? "").replace(/[\s-]/g, "");
  if (!panSchema.safeParse(pan).success) throw new WalletError("card_details_invalid", "the card number is not valid");
  if (!expirySchema.safeParse(details.expiry).success)
    throw new WalletError("card_details_invalid", "the expiry date is not MM/YY");
  if (!cvcSchema.safeParse(details.cvc).success)
    throw new WalletError("card_details_invalid", "the security code is 3 or 4 digits");
  return { ...details, pan };
}

/** The issuer for a card: a listed certificate that verifies against the trusted roots and covers the BIN. */
export async function certifiedIssuerFor(
  pan: string,
  listings: ReadonlyArray<{ issuerId: string; certificate: string }>,
  roots: readonly NetworkRoot[],
  nowSeconds: number,
): Promise<IssuerCertificate> {
  let untrusted = false;
  for (const listing of listings) {
    try {
      const certificate = await verifyIssuerCertificate(listing.certificate, roots, nowSeconds, pan);
      if (certificate.issuerId === listing.issuerId) return certificate;
    } catch (error) {
      if (error instanceof IssuerCertificateError && error.code !== "bin_not_covered") untrusted = true;
    }
  }
  throw untrusted
    ? new WalletError(
        "issuer_not_trusted",
        "no issuer certificate signed by a card-network root this wallet trusts covers this card",
      )
    : new WalletError("issuer_not_found", "no card issuer on the network serves this card's number range");
}

/** The issuer certificate named `issuerId` among the listings, verified (for a payment: the card's BIN checked). */
export async function certifiedIssuer(
  issuerId: string,
  listings: ReadonlyArray<{ issuerId: string; certificate: string }>,
  roots: readonly NetworkRoot[],
  nowSeconds: number,
  pan: string,
): Promise<IssuerCertificate> {
  const listing = listings.find((l) => l.issuerId === issuerId);
  if (!listing) throw new WalletError("issuer_not_found", `the pay server does not list the card's issuer ${issuerId}`);
  try {
    const certificate = await verifyIssuerCertificate(listing.certificate, roots, nowSeconds, pan);
    if (certificate.issuerId !== issuerId)
      throw new WalletError("issuer_not_trusted", "the certificate is for another issuer");
    return certificate;
  } catch (error) {
    if (error instanceof WalletError) throw error;
    throw new WalletError(
      "issuer_not_trusted",
      error instanceof Error ? error.message : "the issuer certificate is not trusted",
    );
  }
}

/**
 * The enrollment JWE: only the issuer's certified key opens it. `passkeys` (credential id and COSE public key, as
 * the page got them at registration) are bound at the issuer with the device key, so it can check a passkey
 * approval itself.
 */
export function enrollmentJwe(
  certificate: IssuerCertificate,
  details: CardDetails,
  deviceKey: EcPublicJwk,
  nowSeconds: number,
  passkeys?: readonly BoundPasskey[],
): Promise<string> {
  const payload = {
    pan: details.pan,
    expiry: details.expiry,
    cvc: details.cvc,
    deviceKey,
    ...(passkeys && passkeys.length > 0 ? { passkeys: [...passkeys] } : {}),
    iat: nowSeconds,
  };
  return encryptTo(
    new TextEncoder().encode(canonicalize(payload)),
    { ...certificate.jwk },
    { typ: JOSE_TYPES.enrollment, kid: certificate.kid },
  );
}

export interface SealedCard {
  sealedCard: string;
  sealedProfile: string | undefined;
  /** For the pay server (base64url); the caller sends it and forgets it. */
  kSrv: string;
  /** For this device's key store; the caller keeps it wrapped and wipes this array. */
  kDev: Uint8Array;
}

/** Makes the DEK's two shares and seals the card (and profile) records under the DEK, which is then wiped. */
export async function sealNewCard(
  binding: Omit<RecordBinding, "purpose">,
  details: CardDetails,
  profile: PayerProfile | undefined,
): Promise<SealedCard> {
  if (profile !== undefined && !payerProfileSchema.safeParse(profile).success)
    throw new WalletError(
      "card_details_invalid",
      "the personal details are not in the expected shape (plain text, an e-mail, a +country phone number)",
    );
  const { dek, kDev, kSrv } = newKeyShares();
  try {
    const cardRecord = new TextEncoder().encode(
      JSON.stringify({
        pan: details.pan,
        expiry: details.expiry,
        ...(details.holderName ? { holderName: details.holderName } : {}),
      }),
    );
    const sealedCard = await sealRecord(dek, { ...binding, purpose: "card" }, cardRecord);
    wipe(cardRecord);
    const sealedProfile =
      profile === undefined
        ? undefined
        : await sealRecord(dek, { ...binding, purpose: "profile" }, new TextEncoder().encode(JSON.stringify(profile)));
    return { sealedCard, sealedProfile, kSrv: base64url.encode(kSrv), kDev };
  } finally {
    wipe(dek, kSrv);
  }
}

export interface ReleasePayload {
  cardId: string;
  sealedCard: string;
  sealedProfile: string | null;
  recordVersion: number;
}

/** Opens the release with this payment's one-time private key: K_srv (bytes, for the caller to wipe) and the rest. */
export async function openRelease(
  release: string,
  oneTimeKey: CryptoKey,
): Promise<{ kSrv: Uint8Array; payload: ReleasePayload }> {
  let plaintext: Uint8Array;
  try {
    ({ plaintext } = await decryptFrom(release, oneTimeKey, JOSE_TYPES.release));
  } catch {
    throw new WalletError("release_invalid", "the pay server's release does not open with this payment's key");
  }
  try {
    if (plaintext.length <= 32) throw new Error("short");
    const kSrv = plaintext.slice(0, 32);
    const payload = JSON.parse(new TextDecoder().decode(plaintext.subarray(32))) as ReleasePayload;
    return { kSrv, payload };
  } catch {
    throw new WalletError("release_invalid", "the pay server's release is malformed");
  } finally {
    wipe(plaintext);
  }
}

/** Opens a sealed record with both shares (the DEK exists only inside this call). The caller wipes the result. */
export async function openWithShares(
  kDev: Uint8Array,
  kSrv: Uint8Array,
  binding: RecordBinding,
  sealed: string,
): Promise<Uint8Array> {
  const dek = combineShares(kDev, kSrv);
  try {
    return await openRecord(dek, binding, sealed);
  } catch {
    throw new WalletError(
      "card_record_invalid",
      "the card record does not open on this device: it was changed, moved or rolled back",
    );
  } finally {
    wipe(dek);
  }
}

/** The personal record, as the device sealed it. */
export function parseProfileRecord(bytes: Uint8Array): PayerProfile {
  const parsed = payerProfileSchema.safeParse(JSON.parse(new TextDecoder().decode(bytes)));
  if (!parsed.success) throw new WalletError("card_record_invalid", "the personal record is malformed");
  return parsed.data;
}

export function parseCardRecord(bytes: Uint8Array): CardData {
  const parsed = cardDataSchema.safeParse(
    (({ pan, expiry }) => ({ pan, expiry }))(JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>),
  );
  if (!parsed.success) throw new WalletError("card_record_invalid", "the card record is malformed");
  return parsed.data;
}

/** A card-on-file mandate, signed with the card data by the device and encrypted to the issuer (as a payment is). */
export async function mandateJwe(
  certificate: IssuerCertificate,
  devicePrivateKey: CryptoKey,
  deviceKid: string,
  mandate: MandateTerms,
  card: CardData,
): Promise<string> {
  const signed = new TextEncoder().encode(canonicalize({ mandate, card }));
  try {
    const jws = await signWith(signed, devicePrivateKey, { typ: JOSE_TYPES.mandate, kid: deviceKid });
    return await encryptTo(
      new TextEncoder().encode(jws),
      { ...certificate.jwk },
      { typ: JOSE_TYPES.mandateEnvelope, kid: certificate.kid },
    );
  } finally {
    wipe(signed);
  }
}

/** Sign-then-encrypt: the device signs the terms with the card data, and only the issuer can read the result. */
export async function paymentJwe(
  certificate: IssuerCertificate,
  devicePrivateKey: CryptoKey,
  deviceKid: string,
  terms: ApprovalTerms,
  card: CardData,
): Promise<string> {
  const signed = new TextEncoder().encode(canonicalize({ terms, card }));
  try {
    const jws = await signWith(signed, devicePrivateKey, { typ: JOSE_TYPES.payment, kid: deviceKid });
    return await encryptTo(
      new TextEncoder().encode(jws),
      { ...certificate.jwk },
      { typ: JOSE_TYPES.paymentEnvelope, kid: certificate.kid },
    );
  } finally {
    wipe(signed);
  }
}
