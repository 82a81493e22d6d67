/**
 * Drill (d) of issue 7: 50 concurrent enrollment guesses per card, per device key and per payer. An outside review
 * raced the limits (counted, then inserted later, without a lock): 30 concurrent guesses tested 12 CVCs against a
 * limit of 5 per card, and one payer got 19 enrollments to the issuer against 10. A 201 reveals a right CVC, so
 * that was a CVC oracle. Here every burst is fired at once, alternating between two pay-server processes on one
 * PostgreSQL database, and what the issuer received is counted in the issuer's own database:
 * - per card: 50 payers, each with its own device, guess the CVC of one card → exactly the card's 5 failures are
 *   checked; the right CVC sent after them is locked too, and no code goes to the cardholder's phone;
 * - per device key: 50 payers send JWEs that all carry one device key (a bot that writes its own wallet code) →
 *   exactly the issuer's 10 per device are checked;
 * - per payer: one payer sends 50 → exactly the pay servers' limit reaches the issuer (7 here, set below the
 *   issuer's own 10 per payer and per device, so the count is the pay servers' claim and not the issuer's).
 * The card and device bursts are built first with the wallet SDK's own pieces (certificate check, enrollment JWE,
 * device signature) and then only posted, so they arrive together; the payer's burst and the late right CVC go
 * through the Wallet itself. Without DATABASE_URL the same bursts run on PGlite against one pay server
 * (limit-drill-network.ts says why). Each burst's time is printed at the end.
 */
import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { certifiedIssuerFor, enrollmentJwe, isPayApiError, PayClient, Wallet } from "@mpay/wallet";
import { FileKeyStore } from "@mpay/wallet/node";
import { TEST_NETWORK_ROOTS } from "@mpay/testing/network-roots";
import { systemBackends } from "@mpay/service-kit/testing";
import { DEFAULT_ENROLLMENT_LIMITS as ISSUER_LIMITS } from "../services/issuer/src/config.ts";
import { newTestDevice } from "../services/pay/src/testing/payer-device.ts";
import { CARDS } from "./support/breach-network.ts";
import { openLimitDrillNetwork, type LimitDrillNetwork } from "./support/limit-drill-network.ts";

const BURST = 50;
/** The pay servers' limits in this drill: per payer below the issuer's, per address out of the way. */
const PAY_LIMITS = { perPayerPerHour: 7, perAddressPerHour: 1000 };
const CARD = CARDS.sampo;

/** A Luhn-valid number in Sampo's BIN range that no account has. */
function madeUpPan(n: number): string {
  const body = `411100${String(900_000_000 + n).padStart(9, "0")}`;
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    let digit = Number(body[body.length - 1 - i]);
    if (i % 2 === 0) digit = digit * 2 > 9 ? digit * 2 - 9 : digit * 2;
    sum += digit;
  }
  return `${body}${(10 - (sum % 10)) % 10}`;
}

/** What an enrollment try came to: `started`, or the pay server's error code. */
function outcome(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => "started",
    (error: unknown) => (isPayApiError(error) ? error.code : `unexpected: ${String(error)}`),
  );
}

function tally(outcomes: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const o of outcomes) counts[o] = (counts[o] ?? 0) + 1;
  return counts;
}

describe.each(systemBackends())(
  "drill (d): 50 concurrent enrollment guesses per card, device and payer [%s]",
  (backend) => {
    let net: LimitDrillNetwork;
    let folder: string;
    let made = 0;
    const timings: Record<string, number> = {};

    /** A fetch that sends request i to pay server i % n: one client's burst is decided by both processes. */
    function alternating(): typeof fetch {
      let next = 0;
      return (input, init) => {
        const url = String(input);
        const from = net.payUrls.find((u) => url.startsWith(u)) ?? net.payUrls[0]!;
        return globalThis.fetch(url.replace(from, net.payUrls[next++ % net.payUrls.length]!), init);
      };
    }

    /** A signed-in payer whose wallet (the SDK, test network roots) has bound its device; requests alternate. */
    async function payerWallet(name: string): Promise<{ wallet: Wallet; payerId: string }> {
      const session = await net.openSession(name);
      const client = new PayClient({ baseUrl: net.payUrls[0]!, sessionToken: session.token, fetch: alternating() });
      const keyStore = new FileKeyStore(join(folder, `${session.payerId}.json`), FileKeyStore.newDeviceSecret());
      const wallet = new Wallet({
        trustedRoots: TEST_NETWORK_ROOTS,
        keyStore,
        client,
        keyStretching: "memory-constrained",
      });
      await wallet.bindThisDevice(`${name}'s phone`);
      return { wallet, payerId: session.payerId };
    }

    /**
     * Payers with a bound device each, sending through the SDK's client as a bot would: the requests are built first
     * (the wallet SDK's certificate check and JWE), so that a burst is only the POSTs, fired at once.
     */
    async function bots(count: number, name: string) {
      return Promise.all(
        Array.from({ length: count }, async (_, i) => {
          const session = await net.openSession(`${name} ${i}`);
          const device = await newTestDevice(null, null);
          const client = new PayClient({ baseUrl: net.payUrls[i % net.payUrls.length]!, sessionToken: session.token });
          await client.devices.bind({ publicKeyJwk: device.publicKeyJwk, name: `${name} ${i}'s phone` });
          /** The request for one card, whose JWE binds `deviceKey` (the bot's own by default); `send()` posts it. */
          const prepare = async (
            card: { pan: string; expiry: string; cvc: string },
            deviceKey = device.publicKeyJwk,
          ) => {
            const now = Math.floor(Date.now() / 1000);
            const certificate = await certifiedIssuerFor(
              card.pan,
              await client.cards.issuers(),
              TEST_NETWORK_ROOTS,
              now,
            );
            const enrollment = await enrollmentJwe(certificate, card, deviceKey, now);
            const deviceSignature = await device.sign({
              purpose: "enroll-card",
              payerId: session.payerId,
              issuerId: certificate.issuerId,
              enrollmentHash: createHash("sha256").update(enrollment).digest("base64url"),
              nonce: await client.devices.statementNonce(),
            });
            return () =>
              outcome(client.cards.startEnrollment({ issuerId: certificate.issuerId, enrollment, deviceSignature }));
          };
          return { ...session, prepare };
        }),
      );
    }

    const failures = async (subject: string) =>
      Number(
        (
          await net.issuerRows<{ n: number }>(
            sql`select count(*)::int as n from enrollment_events where kind = 'failure' and subject = ${subject}`,
          )
        )[0]?.n,
      );
    /** Failures per card subject (keyed hashes of PANs: the drill never needs the issuer's key to tell them apart). */
    const cardFailures = async () =>
      new Map(
        (
          await net.issuerRows<{ subject: string; n: number }>(
            sql`select subject, count(*)::int as n from enrollment_events where kind = 'failure' and subject like 'card:%' group by subject`,
          )
        ).map((r) => [r.subject, Number(r.n)]),
      );
    const inboxOf = async (phone: string) =>
      (
        (await (await fetch(`${net.issuerUrl}/test-inbox?phone=${encodeURIComponent(phone)}`)).json()) as {
          messages: unknown[];
        }
      ).messages.length;
    const issuerEnrollments = async () =>
      Number((await net.issuerRows<{ n: number }>(sql`select count(*)::int as n from enrollments`))[0]?.n);

    beforeAll(async () => {
      const started = Date.now();
      net = await openLimitDrillNetwork(backend, PAY_LIMITS);
      folder = await mkdtemp(join(tmpdir(), "mpay-limit-drill-devices-"));
      timings["start"] = Date.now() - started;
    });
    afterAll(async () => {
      await net?.close();
      if (folder) await rm(folder, { recursive: true, force: true });
      console.info(`drill (d) [${backend}] on ${net?.shape}: ${JSON.stringify(timings)} ms`);
    });

    it(`checks exactly ${ISSUER_LIMITS.cardFailures} CVC guesses on one card, and never reveals the right CVC sent after them`, {
      timeout: 240_000,
    }, async () => {
      const guessers = await bots(BURST, "Guesser");
      const wrong = Array.from({ length: BURST }, (_, i) => String((Number(CARD.cvc) + 1 + i) % 1000).padStart(3, "0"));
      const guesses = await Promise.all(
        guessers.map((g, i) => g.prepare({ pan: CARD.pan, expiry: CARD.expiry, cvc: wrong[i]! })),
      );
      const inboxBefore = await inboxOf(CARD.phone);
      const before = await cardFailures();

      const started = Date.now();
      const outcomes = await Promise.all(guesses.map((send) => send()));
      timings["card burst"] = Date.now() - started;

      expect(tally(outcomes)).toEqual({
        card_enrollment_refused: ISSUER_LIMITS.cardFailures,
        card_enrollment_locked: BURST - ISSUER_LIMITS.cardFailures,
      });
      // At the issuer: one card's failures grew by exactly its limit.
      const after = await cardFailures();
      const grown = [...after].filter(([subject, n]) => n !== (before.get(subject) ?? 0));
      expect(grown).toHaveLength(1);
      expect(grown[0]![1] - (before.get(grown[0]![0]) ?? 0)).toBe(ISSUER_LIMITS.cardFailures);

      // The right CVC, from a payer and a device the issuer has never seen: locked as well, unchecked, no code sent.
      const late = await payerWallet("Late guesser");
      expect(
        await outcome(late.wallet.startCardEnrollment({ pan: CARD.pan, expiry: CARD.expiry, cvc: CARD.cvc })),
      ).toBe("card_enrollment_locked");
      expect(await inboxOf(CARD.phone)).toBe(inboxBefore);
      expect(await issuerEnrollments()).toBe(0);
      expect(await cardFailures()).toEqual(after);
    });

    it(`checks exactly ${ISSUER_LIMITS.deviceFailures} guesses that carry one device key, from ${BURST} payers`, {
      timeout: 240_000,
    }, async () => {
      const sharedKey = await newTestDevice(null, null);
      const senders = await bots(BURST, "Bot");
      // Each payer's own device signs its request; the JWE inside binds the bot's one shared key instead.
      const guesses = await Promise.all(
        senders.map((bot) =>
          bot.prepare({ pan: madeUpPan(++made), expiry: "12/31", cvc: "123" }, sharedKey.publicKeyJwk),
        ),
      );
      const started = Date.now();
      const outcomes = await Promise.all(guesses.map((send) => send()));
      timings["device burst"] = Date.now() - started;

      expect(tally(outcomes)).toEqual({
        card_enrollment_refused: ISSUER_LIMITS.deviceFailures,
        card_enrollment_locked: BURST - ISSUER_LIMITS.deviceFailures,
      });
      expect(await failures(`device:${sharedKey.kid}`)).toBe(ISSUER_LIMITS.deviceFailures);
      let payerFailures = 0;
      for (const bot of senders) payerFailures += await failures(`payer:${bot.payerId}`);
      expect(payerFailures).toBe(ISSUER_LIMITS.deviceFailures);
    });

    it(`lets exactly the pay servers' ${PAY_LIMITS.perPayerPerHour} of one payer's ${BURST} guesses reach the issuer`, {
      timeout: 240_000,
    }, async () => {
      const { wallet, payerId } = await payerWallet("Card tester");
      const started = Date.now();
      const outcomes = await Promise.all(
        Array.from({ length: BURST }, () =>
          outcome(wallet.startCardEnrollment({ pan: madeUpPan(++made), expiry: "12/31", cvc: "123" })),
        ),
      );
      timings["payer burst"] = Date.now() - started;

      expect(tally(outcomes)).toEqual({
        card_enrollment_refused: PAY_LIMITS.perPayerPerHour,
        card_enrollment_rate_limited: BURST - PAY_LIMITS.perPayerPerHour,
      });
      // The issuer would have let 10 through (its own per-payer and per-device limits): it saw exactly 7.
      expect(PAY_LIMITS.perPayerPerHour).toBeLessThan(
        Math.min(ISSUER_LIMITS.payerFailures, ISSUER_LIMITS.deviceFailures),
      );
      expect(await failures(`payer:${payerId}`)).toBe(PAY_LIMITS.perPayerPerHour);
      const claimed = await net.payRows<{ n: number }>(
        sql`select count(*)::int as n from enrollment_limit_slots where subject = ${`payer:${payerId}`}`,
      );
      expect(Number(claimed[0]?.n)).toBe(PAY_LIMITS.perPayerPerHour);
      expect(
        Number(
          (
            await net.payRows<{ n: number }>(
              sql`select count(*)::int as n from card_enrollments where payer_id = ${payerId}`,
            )
          )[0]?.n,
        ),
      ).toBe(0);
    });
  },
);
