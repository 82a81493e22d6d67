/** Card-on-file tokens: issued from a device-signed mandate, charged within their merchant, cap and expiry, revoked. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recurringTokenSchema, type EnrolledCard, type MandateTerms } from "@mpay/protocol";
import { testCard } from "../cards/test-cards.ts";
import { newNonce, TestDevice } from "../testing/device.ts";
import { authorize, enroll, newPaymentId } from "../testing/flows.ts";
import { openTestHost, testBackends, type TestHost } from "../testing/host.ts";

describe.each(testBackends())("recurring tokens [%s]", (backend) => {
  let host: TestHost;
  let device: TestDevice;
  let enrolled: EnrolledCard;
  const card = testCard("sampo", "approves");

  const mandate = (overrides: Partial<MandateTerms> = {}): MandateTerms => ({
    aud: "sampo",
    cardRef: enrolled.cardRef,
    merchantId: "mch_music",
    merchantName: "Music Monthly",
    maxAmount: 15_000,
    currency: "KRW",
    expiresAt: host.clock.seconds() + 30 * 24 * 3600,
    nonce: newNonce(),
    iat: host.clock.seconds(),
    ...overrides,
  });
  const issue = async (terms: MandateTerms, signer: TestDevice = device, cardData: { pan: string; expiry: string } = card) =>
    host.acquirer("POST", "/issuers/sampo/recurring-tokens", { mandate: await signer.mandate(host.certificate("sampo"), terms, cardData), payerRef: "usr_music" });
  const charge = (token: string, overrides: Record<string, unknown> = {}) =>
    authorize(host, "sampo", { paymentId: newPaymentId(), merchantId: "mch_music", merchantName: "Music Monthly", amount: 9_900, currency: "KRW", captureMethod: "automatic", recurringToken: token, ...overrides });

  beforeAll(async () => {
    host = await openTestHost(backend);
    device = await TestDevice.create();
    enrolled = await enroll(host, "sampo", device, card);
  });
  afterAll(async () => {
    await host?.close();
  });

  it("issues a merchant-bound token and charges it within its cap, for its merchant only", async () => {
    const issued = await issue(mandate());
    expect(issued.status).toBe(201);
    const token = recurringTokenSchema.parse(issued.body);
    expect(token).toMatchObject({ cardRef: enrolled.cardRef, merchantId: "mch_music", maxAmount: 15_000, currency: "KRW" });
    expect(token.token).toMatch(/^rtk_[A-Za-z0-9_-]{43}$/);

    expect((await charge(token.token)).body).toMatchObject({ decision: "approved" });
    expect((await charge(token.token, { amount: 15_000 })).body).toMatchObject({ decision: "approved" });
    expect((await charge(token.token, { amount: 15_001 })).body).toMatchObject({ decision: "declined", declineCode: "token_over_cap" });
    expect((await charge(token.token, { merchantId: "mch_other" })).body).toMatchObject({ declineCode: "token_invalid" });
    expect((await charge(token.token, { currency: "USD" })).body).toMatchObject({ declineCode: "token_invalid" });
    expect((await charge("rtk_" + "A".repeat(43))).body).toMatchObject({ declineCode: "token_invalid" });
  });

  it("declines a token after its expiry, and after the payer revokes it", async () => {
    const shortLived = recurringTokenSchema.parse((await issue(mandate({ expiresAt: host.clock.seconds() + 3600 }))).body);
    const revocable = recurringTokenSchema.parse((await issue(mandate())).body);
    const revoked = await host.acquirer("POST", `/issuers/sampo/recurring-tokens/${revocable.token}/revoke`, {});
    expect(revoked.body).toEqual({ revoked: true, revokedAt: expect.any(String) });
    expect((await host.acquirer("POST", `/issuers/sampo/recurring-tokens/${revocable.token}/revoke`, {})).body).toEqual(revoked.body);
    expect((await charge(revocable.token)).body).toMatchObject({ declineCode: "token_invalid" });
    expect((await host.acquirer("POST", `/issuers/sampo/recurring-tokens/rtk_${"B".repeat(43)}/revoke`, {})).body).toMatchObject({ error: { code: "token_not_found" } });

    host.clock.advance(3601);
    expect((await charge(shortLived.token)).body).toMatchObject({ declineCode: "token_expired" });
  });

  it("refuses a mandate that is replayed, stale, unsigned by a bound device, for another card or issuer", async () => {
    const once = mandate();
    expect((await issue(once)).status).toBe(201);
    const refusals = [
      await issue(once),
      await issue(mandate({ iat: host.clock.seconds() - 600 })),
      await issue(mandate(), await TestDevice.create()),
      await issue(mandate(), device, testCard("sampo", "mastercard")),
      await issue(mandate({ aud: "kstar" })),
      await issue(mandate({ expiresAt: host.clock.seconds() - 1 })),
      await host.acquirer("POST", "/issuers/sampo/recurring-tokens", { mandate: "a.b.c.d.e", payerRef: "usr_music" }),
    ];
    for (const refusal of refusals) {
      expect(refusal.status).toBe(422);
      expect(refusal.body).toEqual({ error: { code: "mandate_refused", message: "The card-on-file mandate could not be accepted. Ask the payer to approve it again." } });
    }
  });

  it("keeps a token charging the card's own status and open-to-buy", async () => {
    const lost = testCard("sampo", "lost");
    const lostCard = await enroll(host, "sampo", device, lost);
    const token = recurringTokenSchema.parse((await issue(mandate({ cardRef: lostCard.cardRef }), device, lost)).body);
    expect((await charge(token.token)).body).toMatchObject({ declineCode: "lost_or_stolen" });
  });
});
