/**
 * Card enrollment (DESIGN.md "Split custody", step 1): the wallet's JWE is opened here and nowhere else; the card
 * data are checked against the account; the cardholder proves the phone on file with a one-time code; then the
 * device key (and any passkeys) are bound to the card, and the card reference, brand and last four go back.
 *
 * Every refusal of the card data is the same answer, `enrollment_refused` with one message, whatever was wrong
 * (PAN unknown, BIN not ours, expiry or CVC off): no oracle for guessing. Failures count per card, device and
 * payer, each claimed before the check it may fail (limits.ts). The CVC is compared in constant time with the one
 * recomputed under the card verification key and then dropped with the rest of the plaintext, which is wiped.
 *
 * Recovery: a payer who lost every device enrolls the card again from a new device. This check (card data plus
 * the code sent to the phone on file) is the issuer's cardholder check; the card keeps its cardRef and gains a
 * second binding.
 */
import { createHash, randomInt, timingSafeEqual } from "node:crypto";
import { calculateJwkThumbprint } from "jose";
import { decryptFrom } from "@mpay/crypto";
import {
  binInRanges,
  enrollmentPayloadSchema,
  JOSE_TYPES,
  type EnrolledCard,
  type EnrollmentPayload,
} from "@mpay/protocol";
import type { EnrollmentLimits } from "../config.ts";
import { IssuerApiError } from "../http/errors.ts";
import { newIssuerId } from "../ids.ts";
import type { IssuerCore } from "../issuer-core.ts";
import { brandOf, expiryMonthOf, maskPhone } from "../cards/card-facts.ts";
import { cardByPan, cardByRef, type CardRow } from "../cards/store.ts";
import { cvcMatches } from "../keys/cvc.ts";
import type { CodeSender } from "../inbox/sender.ts";
import { bindDevice, bindPasskeys, isRevoked } from "../devices/store.ts";
import { cardKeyOf, codesOf, EnrollmentLimiter, failuresOf } from "./limits.ts";
import { countWrongCode, finishEnrollment, insertEnrollment, lockEnrollment } from "./store.ts";

/** How old an enrollment JWE may be (its `iat`): a captured one cannot be replayed next week. */
const MAX_ENROLLMENT_AGE_SECONDS = 600;

const REFUSED = "The card could not be enrolled. Check the card details and try again.";
const LOCKED =
  "Enrollment of this card is locked after too many failed attempts. Try again later or call the card company.";

export interface EnrollmentStarted {
  enrollmentId: string;
  status: "verification_required";
  codeSentTo: string;
  expiresAt: string;
}

function codeHash(enrollmentId: string, code: string): string {
  return createHash("sha256").update(`${enrollmentId}|${code}`).digest("base64url");
}

export class EnrollmentService {
  private readonly limiter: EnrollmentLimiter;

  constructor(
    private readonly issuer: IssuerCore,
    private readonly limits: EnrollmentLimits,
    private readonly sender: CodeSender,
  ) {
    this.limiter = new EnrollmentLimiter(issuer.db, limits);
  }

  /**
   * Opens the JWE, checks the card, and sends a one-time code to the phone on file. Each check is preceded by the
   * claim of the failure it may turn out to be (limits.ts): the payer's before the envelope is opened, the card's
   * and the device's (with the code to send) before the card data are compared; a check that succeeds gives its
   * failure back. A claim refused is `enrollment_locked`, and gives back what this request claimed before it.
   */
  async start(jwe: string, payerRef: string): Promise<EnrollmentStarted> {
    const { db, keys } = this.issuer;
    const now = this.issuer.now();
    const payerSlots = await this.limiter.claimFailures(db, { payer: payerRef }, now);
    if (!payerSlots) throw new IssuerApiError("enrollment_locked", LOCKED);

    const payload = await this.open(jwe, now);
    const deviceKid = await calculateJwkThumbprint(payload.deviceKey, "sha256");
    const subjects = { card: cardKeyOf(keys.cardVerificationKey, payload.pan), device: deviceKid, payer: payerRef };
    const cardSlots = await this.limiter.claimCardCheck(db, subjects, now);
    if (!cardSlots) {
      await this.limiter.release(db, payerSlots);
      throw new IssuerApiError("enrollment_locked", LOCKED);
    }

    const card = await this.matchingCard(payload);
    if (!card || (await isRevoked(db, deviceKid))) {
      // A failure for the card, the device and the payer (their slots stay claimed); no code is sent.
      await this.limiter.release(db, codesOf(cardSlots));
      this.issuer.log.info({ event: "enrollment_refused", deviceKid }, "enrollment refused");
      throw new IssuerApiError("enrollment_refused", REFUSED);
    }

    const enrollmentId = newIssuerId("enrollment", now.getTime());
    const code = String(randomInt(0, 1_000_000)).padStart(6, "0");
    const expiresAt = new Date(now.getTime() + this.limits.codeTtlSeconds * 1000);
    await db.transaction(async (tx) => {
      await insertEnrollment(tx, {
        id: enrollmentId,
        cardRef: card.cardRef,
        payerRef,
        deviceKid,
        deviceJwk: payload.deviceKey,
        passkeys: payload.passkeys ?? [],
        codeHash: codeHash(enrollmentId, code),
        status: "pending",
        createdAt: now,
        expiresAt,
      });
      // The card data were right: not a failure. The code's slot stays claimed.
      await this.limiter.release(tx, [...payerSlots, ...failuresOf(cardSlots)]);
      const minutes = Math.round(this.limits.codeTtlSeconds / 60);
      const text = `[${this.issuer.name}] Your code to add card ending ${card.pan.slice(-4)} to MPay is ${code}. It expires in ${minutes} minutes. Never share it.`;
      await this.sender.send(tx, { phone: card.phone, code, text, expiresAt }, now);
    });
    this.issuer.log.info(
      { event: "enrollment_started", enrollmentId, cardRef: card.cardRef, deviceKid },
      "enrollment code sent",
    );
    return {
      enrollmentId,
      status: "verification_required",
      codeSentTo: maskPhone(card.phone),
      expiresAt: expiresAt.toISOString(),
    };
  }

  /** Checks the code; on success binds the device (and passkeys) and answers the enrolled card. Single use. */
  async verify(enrollmentId: string, code: string): Promise<EnrolledCard> {
    const now = this.issuer.now();
    const outcome = await this.issuer.db.transaction(async (tx) => {
      const enrollment = await lockEnrollment(tx, enrollmentId);
      if (!enrollment || enrollment.status !== "pending") return { kind: "expired" } as const;
      if (enrollment.expiresAt.getTime() <= now.getTime()) {
        await finishEnrollment(tx, enrollment.id, "failed", now);
        return { kind: "expired" } as const;
      }
      const card = await cardByRef(tx, enrollment.cardRef);
      if (!card) return { kind: "expired" } as const;
      const subjects = {
        card: cardKeyOf(this.issuer.keys.cardVerificationKey, card.pan),
        device: enrollment.deviceKid,
        payer: enrollment.payerRef,
      };
      // Claimed in this transaction, which holds the enrollment's lock: the code's tries are counted one at a time.
      const slots = await this.limiter.claimFailures(tx, subjects, now);
      if (!slots) return { kind: "locked" } as const;
      const expected = Buffer.from(enrollment.codeHash);
      const given = Buffer.from(codeHash(enrollment.id, code));
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        const wrong = await countWrongCode(tx, enrollment.id, this.limits.codeTries, now);
        return { kind: "wrong", left: Math.max(0, this.limits.codeTries - wrong) } as const;
      }
      await this.limiter.release(tx, slots);
      if (await isRevoked(tx, enrollment.deviceKid)) {
        await finishEnrollment(tx, enrollment.id, "failed", now);
        return { kind: "expired" } as const;
      }
      await finishEnrollment(tx, enrollment.id, "verified", now);
      const binding = await bindDevice(tx, {
        id: newIssuerId("binding", now.getTime()),
        cardRef: card.cardRef,
        deviceKid: enrollment.deviceKid,
        deviceJwk: enrollment.deviceJwk,
        payerRef: enrollment.payerRef,
        boundAt: now,
      });
      await bindPasskeys(tx, card.cardRef, binding.id, enrollment.passkeys, now);
      return { kind: "bound", card, deviceKid: enrollment.deviceKid, bindingId: binding.id } as const;
    });
    switch (outcome.kind) {
      case "expired":
        throw new IssuerApiError(
          "enrollment_expired",
          "This enrollment is unknown, used or expired; start the enrollment again.",
        );
      case "locked":
        throw new IssuerApiError("enrollment_locked", LOCKED);
      case "wrong":
        this.issuer.log.info(
          { event: "enrollment_code_wrong", enrollmentId, triesLeft: outcome.left },
          "wrong enrollment code",
        );
        throw new IssuerApiError(
          "verification_code_invalid",
          outcome.left > 0
            ? `The code is wrong; ${outcome.left} ${outcome.left === 1 ? "try" : "tries"} left.`
            : "The code is wrong; start the enrollment again.",
        );
    }
    const { card, deviceKid, bindingId } = outcome;
    this.issuer.log.info(
      { event: "device_bound", cardRef: card.cardRef, deviceKid, bindingId },
      "device bound to card",
    );
    return {
      cardRef: card.cardRef,
      brand: brandOf(card.pan),
      last4: card.pan.slice(-4),
      expiryMonth: card.expiryMonth,
      deviceKid,
    };
  }

  /** The payload of the enrollment JWE; anything wrong with it is the one refusal (the payer's claimed failure). */
  private async open(jwe: string, now: Date): Promise<EnrollmentPayload> {
    let plaintext: Uint8Array | undefined;
    try {
      ({ plaintext } = await decryptFrom(jwe, this.issuer.keys.encryptionKey, JOSE_TYPES.enrollment));
      const parsed = enrollmentPayloadSchema.safeParse(JSON.parse(new TextDecoder().decode(plaintext)));
      const age = parsed.success ? now.getTime() / 1000 - parsed.data.iat : Infinity;
      if (parsed.success && age <= MAX_ENROLLMENT_AGE_SECONDS && age >= -60) return parsed.data;
    } catch {
      // Refused below: which step failed (algorithm, key, JSON, schema) is not said.
    } finally {
      plaintext?.fill(0);
    }
    this.issuer.log.info({ event: "enrollment_refused", reason: "envelope" }, "enrollment refused");
    throw new IssuerApiError("enrollment_refused", REFUSED);
  }

  /** The account whose PAN, expiry and CVC these are, in this issuer's BIN ranges; null if anything differs. */
  private async matchingCard(payload: EnrollmentPayload): Promise<CardRow | null> {
    const { keys, db } = this.issuer;
    const inRange = binInRanges(payload.pan, keys.certificate.binRanges);
    const card = inRange ? await cardByPan(db, payload.pan) : null;
    const expiryMonth = expiryMonthOf(payload.expiry);
    // The CVC is computed even for an unknown card, so both refusals take the same time.
    const cvcOk = cvcMatches(keys.cardVerificationKey, payload.pan, expiryMonth, payload.cvc);
    if (!card || card.expiryMonth !== expiryMonth || !cvcOk) return null;
    return card;
  }

  async sweep(now: Date): Promise<number> {
    return this.limiter.sweep(now);
  }
}
