/**
 * The synthetic wallet of the `pay` benchmark, after bench/auth-wallet.ts: a card enrolled for real at the issuer
 * through the pay server, and a payment carried through to the issuer's decision — made with the wallet SDK's own
 * card cryptography (packages/wallet/src/card-crypto.ts), in the order `Wallet.approvePayment` uses it:
 *
 *   challenge → sign the terms, OPAQUE start → PIN login start → OPAQUE finish, MAC, one-time key → approve (the
 *   card released to that key) → open the release, combine K_dev and K_srv, open the card record, check the
 *   issuer's certificate, sign-then-encrypt for the issuer → authorize (the pay server forwards to the issuer).
 *
 * The device's cryptography in the timed path is node:crypto (bench/device-crypto.ts: the release opened, the
 * record opened, the certificate checked with the roots' keys parsed once, the payment signed and encrypted to
 * the issuer's key parsed once), the cheapest correct code, so that the simulated phones take as little as they
 * can of the cores they share with the servers; the formats are the SDK's, and the issuer opens them with jose.
 *
 * Two further differences from the SDK's Wallet, both on the device and both cheap: K_dev is kept in memory (a phone
 * unwraps it from its key store for each payment), and the pay server's issuer listing is read once at setup
 * (the SDK's Wallet asks `GET /v1/payer/issuers` again for each payment; the certificate is still verified against
 * the network roots for each payment, as there).
 */
import {
  certifiedIssuerFor,
  enrollmentJwe,
  parseCardRecord,
  wipe,
  type CardDetails,
  type IssuerListing,
  type ReleasePayload,
} from "@mpay/wallet";
import { combineShares } from "@mpay/crypto";
import { JOSE_TYPES } from "@mpay/protocol";
import canonicalize from "canonicalize";
import { TEST_NETWORK_ROOTS } from "@mpay/testing/network-roots";
import type { Pool } from "undici";
import { TEST_CARDS } from "../services/issuer/src/cards/test-cards.ts";
import { createHash } from "node:crypto";
import {
  approveAndRelease,
  onDevice,
  setupPost,
  signWithNonce,
  step,
  storeCard,
  type DeviceLog,
  type ReleasedApproval,
  type RequestLog,
  type Wallet,
} from "./auth-wallet.ts";
import { CertificateVerifier, es256Jws, jweDecrypt, jweEncrypt, openRecordFast } from "./device-crypto.ts";

/** The device's trusted roots with their keys parsed once (and the certified issuer keys, once each). */
const certificates = new CertificateVerifier(TEST_NETWORK_ROOTS);

/** A card of the issuer simulator, as printed, with the phone its one-time codes go to. */
export interface IssuerTestCard extends CardDetails {
  issuerId: string;
  phone: string;
  /** KRW. */
  creditLimit: number;
}

/** The simulator's test cards that approve (services/issuer/README.md): three per issuer, active, not expired. */
export function approvingTestCards(issuerIds?: readonly string[]): IssuerTestCard[] {
  return TEST_CARDS.filter(
    (c) => c.outcome === "approves" && c.status === "active" && (!issuerIds || issuerIds.includes(c.issuerId)),
  ).map((c) => ({
    issuerId: c.issuerId,
    pan: c.pan,
    expiry: c.expiry,
    cvc: c.cvc,
    phone: c.phone,
    creditLimit: c.creditLimit,
  }));
}

/** The newest one-time code the issuer simulator "sent" to `phone` (its test inbox). */
export async function latestInboxCode(issuerUrl: string, phone: string): Promise<string> {
  const response = await fetch(`${issuerUrl}/test-inbox?phone=${encodeURIComponent(phone)}`);
  if (!response.ok) throw new Error(`setup: the issuer's test inbox answered ${response.status}`);
  const code = ((await response.json()) as { messages: Array<{ code: string }> }).messages[0]?.code;
  if (!code) throw new Error(`setup: no code was sent to ${phone}`);
  return code;
}

/** What the pay server answers to the authorization: the payment as the issuer decided it. */
export interface PaymentOutcome {
  id: string;
  status: string;
  declineCode: string | null;
}

/** The issuers and their certificates as the pay server lists them (the wallet verifies each before use). */
export async function issuerListings(pool: Pool, wallet: Wallet): Promise<IssuerListing[]> {
  const response = await pool.request({
    path: "/v1/payer/issuers",
    method: "GET",
    headers: { authorization: wallet.authorization },
  });
  const text = await response.body.text();
  if (response.statusCode !== 200)
    throw new Error(`setup: GET /v1/payer/issuers answered ${response.statusCode}: ${text.slice(0, 300)}`);
  return (JSON.parse(text) as { data: IssuerListing[] }).data;
}

/**
 * Enrolls `card` on this wallet's device (setup, not timed): the card data as a JWE to the issuer whose network
 * certificate covers its BIN, relayed by the pay server; the one-time code the issuer sends to the phone on file
 * (`codeOf`, the simulator's test inbox); then the records sealed on the device and K_srv uploaded.
 */
export async function enrollCard(
  pool: Pool,
  wallet: Wallet,
  card: IssuerTestCard,
  listings: IssuerListing[],
  codeOf: (phone: string) => Promise<string>,
): Promise<void> {
  const details: CardDetails = { pan: card.pan, expiry: card.expiry, cvc: card.cvc };
  const now = Math.floor(Date.now() / 1000);
  const certificate = await certifiedIssuerFor(card.pan, listings, TEST_NETWORK_ROOTS, now);
  if (certificate.issuerId !== card.issuerId)
    throw new Error(
      `setup: card ${card.pan.slice(-4)} is ${card.issuerId}'s, but ${certificate.issuerId}'s certificate covers it`,
    );
  // A registered passkey is bound at the issuer with the device key (the wallet's `startCardEnrollment({ passkeys })`).
  const passkeys = wallet.passkey
    ? [{ id: wallet.passkey.credentialId.toString("base64url"), publicKey: wallet.passkey.cosePublicKey }]
    : undefined;
  const enrollment = await enrollmentJwe(certificate, details, wallet.publicJwk, now, passkeys);
  const started = await setupPost<{ id: string }>(pool, "/v1/payer/cards/enrollments", wallet.authorization, {
    issuerId: certificate.issuerId,
    enrollment,
    deviceSignature: await signWithNonce(pool, wallet.authorization, wallet.privateKey, wallet.kid, {
      purpose: "enroll-card",
      payerId: wallet.payerId,
      issuerId: certificate.issuerId,
      enrollmentHash: createHash("sha256").update(enrollment).digest("base64url"),
    }),
  });
  const code = await codeOf(card.phone);
  const enrolled = await setupPost<{ id: string; deviceId: string }>(
    pool,
    `/v1/payer/cards/enrollments/${started.id}/verify`,
    wallet.authorization,
    { code },
  );
  await storeCard(pool, wallet, { payerId: wallet.payerId, cardId: enrolled.id, deviceId: enrolled.deviceId }, details);
}

/**
 * The device's part after the approval: opens the release with the one-time key, combines the shares, opens the
 * card record, checks the issuer's certificate against the network roots and builds the sign-then-encrypt JWE.
 * Every secret byte array is wiped before it returns.
 */
async function issuerJwe(wallet: Wallet, approval: ReleasedApproval, listings: IssuerListing[]): Promise<string> {
  const card = wallet.card;
  if (!card) throw new Error("no card on this wallet");
  // card-crypto.ts openRelease: K_srv (32 bytes), then the payload as JSON.
  const released = jweDecrypt(approval.release, approval.releaseKey, JOSE_TYPES.release);
  if (released.length <= 32) throw new Error("the pay server's release is malformed");
  const kSrv = Uint8Array.from(released.subarray(0, 32));
  let payload: ReleasePayload;
  try {
    payload = JSON.parse(released.subarray(32).toString("utf8")) as ReleasePayload;
  } finally {
    wipe(released);
  }
  let cardBytes: Uint8Array | undefined;
  let signed: Uint8Array | undefined;
  try {
    if (payload.cardId !== card.cardId || payload.recordVersion !== card.recordVersion)
      throw new Error("the pay server released another card or version");
    // A phone unwraps a fresh copy of K_dev from its key store for each payment, and wipes it after.
    const dek = combineShares(card.kDev, kSrv);
    try {
      cardBytes = openRecordFast(
        dek,
        {
          purpose: "card",
          cardId: card.cardId,
          payerId: wallet.payerId,
          deviceId: card.deviceId,
          version: card.recordVersion,
        },
        payload.sealedCard,
      );
    } finally {
      wipe(dek);
    }
    const cardData = parseCardRecord(cardBytes);
    // card-crypto.ts certifiedIssuer: the listed certificate of the terms' issuer, verified, covering the BIN.
    const listing = listings.find((l) => l.issuerId === approval.terms.aud);
    if (!listing) throw new Error(`the pay server does not list the card's issuer ${approval.terms.aud}`);
    const certificate = certificates.verify(listing.certificate, Math.floor(Date.now() / 1000), cardData.pan);
    if (certificate.issuerId !== approval.terms.aud) throw new Error("the certificate is for another issuer");
    // card-crypto.ts paymentJwe: sign-then-encrypt.
    signed = new TextEncoder().encode(canonicalize({ terms: approval.terms, card: cardData }));
    const jws = es256Jws(signed, wallet.signingKey, { typ: JOSE_TYPES.payment, kid: wallet.kid });
    return jweEncrypt(new TextEncoder().encode(jws), certificates.recipientKey(certificate), {
      typ: JOSE_TYPES.paymentEnvelope,
      kid: certificate.kid,
    });
  } finally {
    wipe(kSrv);
    if (cardBytes) wipe(cardBytes);
    if (signed) wipe(signed);
  }
}

/**
 * One payment of `paymentId` with the PIN or the wallet's passkey, from the challenge to the issuer's decision.
 * Answers the payment as the pay server reports it (`authorized`, or `declined` with the issuer's code), or null
 * when a request failed.
 */
export async function payWith(
  method: "pin" | "passkey",
  pool: Pool,
  wallet: Wallet,
  paymentId: string,
  listings: IssuerListing[],
  log: RequestLog,
  device?: DeviceLog,
): Promise<PaymentOutcome | null> {
  const approval = await approveAndRelease(pool, wallet, paymentId, log, device, method);
  if (!approval || approval.paymentId !== paymentId) return null;
  const payment = await onDevice(device, "device-jwe", () => issuerJwe(wallet, approval, listings));
  return step<PaymentOutcome>(
    pool,
    log,
    "authorize",
    `/v1/payer/approvals/${approval.approvalId}/authorize`,
    wallet.authorization,
    { payment },
  );
}
