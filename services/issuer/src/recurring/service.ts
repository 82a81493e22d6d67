/**
 * Card-on-file tokens for recurring payments (issue 4, deliverable 7): at the payer's consent the device signs a
 * mandate (JWS `typ` mandate over `{ mandate, card }`, inside a JWE `typ` mandateEnvelope to this issuer) and the
 * issuer answers a token bound to one merchant, a currency and the schedule the payer signed: the most per charge,
 * the most charges and total per period, the end date (issue 7, hole 4). The signed terms are stored with the
 * token and every charge is decided from them (authorization/service.ts, charge-schedule.ts), so whoever holds
 * the token — a pay server whose KEK was stolen included — charges no more than the payer agreed to.
 *
 * The mandate must verify against a device key bound to the card it names, match the account's card data, be
 * fresh (`iat` within 5 minutes) and used once (its nonce); every refusal is the one `mandate_refused`. The token is
 * 256 random bits; only its SHA-256 is stored.
 */
import { randomBytes } from "node:crypto";
import { decryptFrom, jwsKid, verifyWith } from "@mpay/crypto";
import { JOSE_TYPES, mandatePayloadSchema, type MandateTerms, type recurringTokenSchema } from "@mpay/protocol";
import type { z } from "zod";
import { IssuerApiError } from "../http/errors.ts";
import { newIssuerId } from "../ids.ts";
import type { Executor } from "../db/client.ts";
import type { IssuerCore } from "../issuer-core.ts";
import { expiryMonthOf } from "../cards/card-facts.ts";
import { cardByRef } from "../cards/store.ts";
import type { FxDesk } from "../fx/conversion.ts";
import { activeBinding, anyActiveBinding } from "../devices/store.ts";
import { insertToken, revokeToken, tokenHashOf } from "./store.ts";

export type RecurringToken = z.infer<typeof recurringTokenSchema>;

const MAX_MANDATE_AGE_SECONDS = 300;
/** A token lives at most this long, whatever the mandate asks. */
const MAX_TOKEN_LIFETIME_SECONDS = 5 * 365 * 24 * 3600;
const REFUSED = "The card-on-file mandate could not be accepted. Ask the payer to approve it again.";

class Refused extends Error {}

/**
 * Spends a device's one-time nonce for `owner` inside `tx` and returns the owner that holds it (`owner` when it was
 * free). The nonces belong to the authorization context (a mandate and a payment share one pool); host.ts passes
 * `AuthorizationService.claimNonce`, so this context depends on none above it.
 */
export type ClaimNonce = (
  tx: Executor,
  deviceKid: string,
  nonce: string,
  owner: string,
  expiresAt: Date,
) => Promise<string>;

export class RecurringService {
  constructor(
    private readonly issuer: IssuerCore,
    private readonly claimNonce: ClaimNonce,
    private readonly fx: FxDesk,
  ) {}

  async issue(mandateJwe: string, payerRef: string): Promise<RecurringToken> {
    const now = this.issuer.now();
    let verified: { mandate: MandateTerms; deviceKid: string };
    try {
      verified = await this.verify(mandateJwe, now);
    } catch (error) {
      if (!(error instanceof Refused)) throw error;
      this.issuer.log.info({ event: "mandate_refused", reason: error.message }, "mandate refused");
      throw new IssuerApiError("mandate_refused", REFUSED);
    }
    const { mandate, deviceKid } = verified;
    const id = newIssuerId("recurringToken", now.getTime());
    const token = `rtk_${randomBytes(32).toString("base64url")}`;
    const expiresAt = new Date(mandate.expiresAt * 1000);
    const fresh = await this.issuer.db.transaction(async (tx) => {
      const owner = await this.claimNonce(
        tx,
        deviceKid,
        mandate.nonce,
        `mandate:${id}`,
        new Date((mandate.iat + MAX_MANDATE_AGE_SECONDS + 60) * 1000),
      );
      if (owner !== `mandate:${id}`) return false;
      await insertToken(tx, {
        id,
        tokenHash: tokenHashOf(token),
        cardRef: mandate.cardRef,
        merchantId: mandate.merchantId,
        merchantName: mandate.merchantName,
        maxAmount: mandate.maxAmount,
        currency: mandate.currency,
        expiresAt,
        payerRef,
        deviceKid,
        consent: mandate,
        createdAt: now,
      });
      return true;
    });
    if (!fresh) {
      this.issuer.log.info({ event: "mandate_refused", reason: "the mandate was used before" }, "mandate refused");
      throw new IssuerApiError("mandate_refused", REFUSED);
    }
    this.issuer.log.info(
      {
        event: "recurring_token_issued",
        tokenId: id,
        cardRef: mandate.cardRef,
        merchantId: mandate.merchantId,
        deviceKid,
        period: mandate.period,
      },
      "recurring token issued",
    );
    return {
      token,
      cardRef: mandate.cardRef,
      merchantId: mandate.merchantId,
      maxAmount: mandate.maxAmount,
      period: mandate.period,
      currency: mandate.currency,
      expiresAt: expiresAt.toISOString(),
    };
  }

  async revoke(token: string): Promise<{ revoked: true; revokedAt: string }> {
    const row = await revokeToken(this.issuer.db, token, this.issuer.now());
    if (!row || row.revokedAt === null)
      throw new IssuerApiError("token_not_found", "No such recurring token at this issuer.");
    this.issuer.log.info(
      { event: "recurring_token_revoked", tokenId: row.id, cardRef: row.cardRef },
      "recurring token revoked",
    );
    return { revoked: true, revokedAt: row.revokedAt.toISOString() };
  }

  private async verify(jwe: string, now: Date): Promise<{ mandate: MandateTerms; deviceKid: string }> {
    let jws: string;
    let plaintext: Uint8Array | undefined;
    try {
      ({ plaintext } = await decryptFrom(jwe, this.issuer.keys.encryptionKey, JOSE_TYPES.mandateEnvelope));
      jws = new TextDecoder().decode(plaintext);
    } catch {
      throw new Refused("the mandate envelope cannot be opened by this issuer");
    } finally {
      plaintext?.fill(0);
    }
    let deviceKid: string | undefined;
    try {
      deviceKid = jwsKid(jws);
    } catch {
      deviceKid = undefined;
    }
    const signer = deviceKid ? await anyActiveBinding(this.issuer.db, deviceKid) : null;
    if (!deviceKid || !signer) throw new Refused("the mandate is not signed by a bound device");
    let content: unknown;
    try {
      const { payload } = await verifyWith(jws, { ...signer.deviceJwk }, JOSE_TYPES.mandate);
      content = JSON.parse(new TextDecoder().decode(payload));
    } catch {
      throw new Refused("the mandate signature does not verify");
    }
    const parsed = mandatePayloadSchema.safeParse(content);
    if (!parsed.success) throw new Refused("the mandate is malformed");
    const { mandate, card } = parsed.data;
    const seconds = Math.floor(now.getTime() / 1000);
    if (mandate.aud !== this.issuer.id) throw new Refused("the mandate is for another issuer");
    if (!(await activeBinding(this.issuer.db, mandate.cardRef, deviceKid)))
      throw new Refused("the device is not bound to this card");
    const account = await cardByRef(this.issuer.db, mandate.cardRef);
    if (!account || account.pan !== card.pan || account.expiryMonth !== expiryMonthOf(card.expiry))
      throw new Refused("the card data are not this card's");
    // A mandate may be in another currency than the card's, as a subscription abroad is: its cap and period total
    // are in the mandate's currency (each charge is in it too), and each charge is billed like any purchase.
    if (!this.fx.termsFor(mandate.currency, account.currency))
      throw new Refused("the issuer converts no purchase in the mandate's currency to the card's");
    if (mandate.iat > seconds + 30 || seconds - mandate.iat > MAX_MANDATE_AGE_SECONDS)
      throw new Refused("the mandate is not fresh");
    if (mandate.expiresAt <= seconds || mandate.expiresAt - seconds > MAX_TOKEN_LIFETIME_SECONDS)
      throw new Refused("the mandate's expiry is out of range");
    return { mandate, deviceKid };
  }
}
