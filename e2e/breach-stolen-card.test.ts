/**
 * Breach drill (g) of issue 4: card data alone do not enroll a card (DESIGN.md "Split custody", enrollment). A
 * thief with a stolen PAN, expiry and CVC, but not the cardholder's phone, enrolls from a device of his own:
 * - the issuer accepts the card data and sends the one-time code to the phone on file, never to the thief, who
 *   is shown only a masked number; guessed codes fail, the real code no longer works once the guesses spent the
 *   enrollment or locked the card, and after five failures the card's enrollment is locked (`card_enrollment_locked`);
 * - the pay server cuts a payer off after ten enrollments in an hour (`card_enrollment_rate_limited`) before the
 *   issuer is asked;
 * - an address that tests card data through many payers and devices (a CVC-guessing bot: nearly every try is a
 *   refusal) is cut off by the pay server's per-address limit too, so at most that many tries reach the issuer.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isPayApiError } from "@mpay/wallet";
import { systemBackends } from "../services/pay/src/testing/databases.ts";
import { CARDS, openBreachNetwork, type BreachNetwork } from "./support/breach-network.ts";

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail("expected a rejection"),
    (error: unknown) => error,
  );
}

/** Six-digit codes that are not `real`. */
function wrongCodes(real: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => String((Number(real) + 1 + i * 7919) % 1_000_000).padStart(6, "0"));
}

/** A made-up card number in Sampo's BIN range with a valid Luhn digit (the issuer has no such account). */
function madeUpPan(n: number): string {
  const body = `411100${String(500_000_000 + n).padStart(9, "0")}`;
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    let digit = Number(body[body.length - 1 - i]);
    if (i % 2 === 0) digit = digit * 2 > 9 ? digit * 2 - 9 : digit * 2;
    sum += digit;
  }
  return `${body}${(10 - (sum % 10)) % 10}`;
}

describe.each(systemBackends())("breach drill (g): a stolen card number without the phone on file [%s]", (backend) => {
  let net: BreachNetwork;
  const enrollCalls = () => net.connector.calls.filter((c) => c.method === "enroll").length;

  beforeAll(async () => {
    net = await openBreachNetwork(backend);
  });
  afterAll(async () => {
    await net?.close();
  });

  it("sends the code only to the cardholder's phone, fails every guess, and locks the card after five failures", async () => {
    const stolen = CARDS.sampo;
    const thief = await net.newPayer("Thief", { withPin: false });
    const inboxBefore = await fetch(`${net.issuerUrl}/test-inbox?phone=${encodeURIComponent(stolen.phone)}`).then(
      (r) => r.json() as Promise<{ messages: unknown[] }>,
    );

    const first = await thief.wallet.startCardEnrollment({ pan: stolen.pan, expiry: stolen.expiry, cvc: stolen.cvc });
    expect(first.codeSentTo).not.toContain(stolen.phone.slice(3, -4));
    const sent = await fetch(`${net.issuerUrl}/test-inbox?phone=${encodeURIComponent(stolen.phone)}`).then(
      (r) => r.json() as Promise<{ messages: Array<{ code: string; text: string }> }>,
    );
    expect(sent.messages.length).toBe(inboxBefore.messages.length + 1);
    expect(sent.messages[0]!.text).toContain("ending 0016");
    const realCode = sent.messages[0]!.code; // on the cardholder's phone: the thief never sees it

    // Three guesses spend the enrollment; then even the real code does not finish it.
    for (const guess of wrongCodes(realCode, 3))
      expect(isPayApiError(await rejection(first.complete(guess)), "verification_code_invalid")).toBe(true);
    expect(isPayApiError(await rejection(first.complete(realCode)), "card_enrollment_expired")).toBe(true);

    // A second enrollment: a new code, to the same phone; two more guesses make five failures for the card.
    const second = await thief.wallet.startCardEnrollment({ pan: stolen.pan, expiry: stolen.expiry, cvc: stolen.cvc });
    const secondCode = await net.latestCode(stolen.phone);
    for (const guess of wrongCodes(secondCode, 2))
      expect(isPayApiError(await rejection(second.complete(guess)), "verification_code_invalid")).toBe(true);
    const locked = await rejection(second.complete(secondCode));
    expect(isPayApiError(locked, "card_enrollment_locked"), String(locked)).toBe(true);
    expect(
      isPayApiError(
        await rejection(thief.wallet.startCardEnrollment({ pan: stolen.pan, expiry: stolen.expiry, cvc: stolen.cvc })),
        "card_enrollment_locked",
      ),
    ).toBe(true);

    expect(await thief.wallet.cards()).toEqual([]);
    // The price of the lock, as services/issuer/README.md says: the card's own holder waits out the window too.
    const holder = await net.newPayer("Kim Minji", { withPin: false });
    expect(
      isPayApiError(
        await rejection(holder.wallet.startCardEnrollment({ pan: stolen.pan, expiry: stolen.expiry, cvc: stolen.cvc })),
        "card_enrollment_locked",
      ),
    ).toBe(true);
  });

  it("cuts a payer off after ten enrollments in an hour, before the issuer is asked", async () => {
    const thief = await net.newPayer("Card collector", { withPin: false });
    const stolen = [CARDS.sampoMaster, CARDS.kstarMaster];
    for (let i = 0; i < net.pay.config.enrollmentLimits.perPayerPerHour; i++) {
      const card = stolen[i % stolen.length]!;
      await thief.wallet.startCardEnrollment({ pan: card.pan, expiry: card.expiry, cvc: card.cvc });
    }
    const calls = enrollCalls();
    const cutOff = await rejection(
      thief.wallet.startCardEnrollment({ pan: CARDS.kstar.pan, expiry: CARDS.kstar.expiry, cvc: CARDS.kstar.cvc }),
    );
    expect(isPayApiError(cutOff, "card_enrollment_rate_limited"), String(cutOff)).toBe(true);
    expect(enrollCalls()).toBe(calls);
  });

  it("cuts off an address that tests card data through many payers and devices", async () => {
    const limit = net.pay.config.enrollmentLimits.perAddressPerHour;
    let tries = 0;
    let cutOff: unknown;
    // Each try is a fresh payer with a fresh device and a made-up card: no per-card, per-device or per-payer
    // limit ever fills; only the address is common to them all.
    while (cutOff === undefined && tries < limit + 5) {
      tries++;
      const tester = await net.newPayer(`Tester ${tries}`, { withPin: false });
      const error = await rejection(
        tester.wallet.startCardEnrollment({ pan: madeUpPan(tries), expiry: "12/31", cvc: "123" }),
      );
      if (isPayApiError(error, "card_enrollment_rate_limited")) cutOff = error;
      else expect(isPayApiError(error, "card_enrollment_refused"), String(error)).toBe(true);
    }
    expect(cutOff, `${tries} tries from one address were all passed to the issuer`).toBeDefined();
    // Everything this address sent the issuer in this hour, the drills above included, stays within the limit.
    expect(enrollCalls()).toBeLessThanOrEqual(limit);
  });
});
