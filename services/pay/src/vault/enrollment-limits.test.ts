/**
 * The pay server's enrollment limits under concurrent tries (issue 7, hole 3), with a real issuer host behind it,
 * on PGlite and on PostgreSQL: of N tries at once against a limit L, exactly L reach the issuer — counted in the
 * issuer's own table, not from the pay server's answers — and the rest get `card_enrollment_rate_limited` with
 * nothing else written. The limits here (4 per payer, 12 per address) are below the issuer's own (10 per payer),
 * so what the issuer counts is the pay server's limit and not the issuer's.
 */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enrollmentJwe } from "@mpay/wallet";
import { queryRows, TestClock } from "@mpay/service-kit";
import { testBackends } from "../testing/databases.ts";
import { openTestNetwork, type TestNetwork } from "@mpay/testing/network";
import { enrollmentHash } from "./service.ts";
import { newTestDevice, type TestDevice } from "../testing/payer-device.ts";
import { call, signedInPayer } from "../testing/system.ts";

const LIMITS = { perPayerPerHour: 4, perAddressPerHour: 12 };
const BURST = 30;

/** A Luhn-valid number in Sampo's BIN range that no account has: every try is refused by the issuer. */
function madeUpPan(n: number): string {
  const body = `411100${String(800_000_000 + n).padStart(9, "0")}`;
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    let digit = Number(body[body.length - 1 - i]);
    if (i % 2 === 0) digit = digit * 2 > 9 ? digit * 2 - 9 : digit * 2;
    sum += digit;
  }
  return `${body}${(10 - (sum % 10)) % 10}`;
}

interface Enroller {
  token: string;
  payerId: string;
  device: TestDevice;
}

describe.each(testBackends())("enrollment limits of the pay server under concurrent tries [%s]", (backend) => {
  let net: TestNetwork;
  const clock = new TestClock();
  let cards = 0;
  const issuerDb = () => net.issuer.host.get("sampo").db;
  /** What the issuer received and checked for this payer: its own failure count. */
  const atIssuer = async (payerId: string) =>
    Number(
      (
        await queryRows<{ n: number }>(
          issuerDb(),
          sql`select count(*)::int as n from enrollment_events where subject = ${`payer:${payerId}`}`,
        )
      )[0]?.n,
    );
  const payRows = async (query: ReturnType<typeof sql>) =>
    Number((await queryRows<{ n: number }>(net.pay.system.database.db, query))[0]?.n);

  async function enroller(): Promise<Enroller> {
    const session = await signedInPayer(net.pay.system);
    const device = await newTestDevice(net.pay.app, session.token, clock);
    const bound = await call(net.pay.app, "POST", "/v1/payer/devices", session.token, {
      publicKeyJwk: device.publicKeyJwk,
      name: "Phone",
    });
    if (bound.status !== 200) throw new Error(`bind failed: ${bound.raw}`);
    return { ...session, device };
  }

  /** One enrollment try of a made-up card, from `address`, as the wallet sends it. */
  async function tryEnroll(who: Enroller, address: string): Promise<{ status: number; code: string }> {
    const certificate = net.issuer.host.get("sampo").keys.certificate;
    const enrollment = await enrollmentJwe(
      certificate,
      { pan: madeUpPan(++cards), expiry: "12/31", cvc: "123" },
      who.device.publicKeyJwk,
      Math.floor(Date.now() / 1000),
    );
    const response = await net.pay.app.inject({
      method: "POST",
      url: "/v1/payer/cards/enrollments",
      remoteAddress: address,
      headers: { authorization: `Bearer ${who.token}`, "content-type": "application/json" },
      payload: JSON.stringify({
        issuerId: "sampo",
        enrollment,
        deviceSignature: await who.device.sign({
          purpose: "enroll-card",
          payerId: who.payerId,
          issuerId: "sampo",
          enrollmentHash: enrollmentHash(enrollment),
        }),
      }),
    });
    const body = JSON.parse(response.body) as { error?: { code: string } };
    return { status: response.statusCode, code: body.error?.code ?? "started" };
  }

  const tally = (answers: Array<{ code: string }>) =>
    answers.reduce<Record<string, number>>((counts, a) => ({ ...counts, [a.code]: (counts[a.code] ?? 0) + 1 }), {});

  beforeAll(async () => {
    net = await openTestNetwork(backend, {
      pay: { enrollmentLimits: LIMITS, clock, dbPoolSize: 10 },
      issuerConfig: { dbPoolSize: 4 },
    });
  });
  afterAll(async () => {
    await net?.close();
  });

  it(`lets exactly ${LIMITS.perPayerPerHour} of ${BURST} concurrent tries by one payer reach the issuer`, async () => {
    const payer = await enroller();
    const answers = await Promise.all(Array.from({ length: BURST }, () => tryEnroll(payer, "10.0.0.1")));

    expect(tally(answers)).toEqual({
      card_enrollment_refused: LIMITS.perPayerPerHour,
      card_enrollment_rate_limited: BURST - LIMITS.perPayerPerHour,
    });
    for (const answer of answers.filter((a) => a.code === "card_enrollment_rate_limited"))
      expect(answer.status).toBe(429);
    expect(await atIssuer(payer.payerId)).toBe(LIMITS.perPayerPerHour);
    // Counted before the issuer was asked, refused tries included; nothing else was written for them.
    expect(
      await payRows(
        sql`select count(*)::int as n from enrollment_limit_slots where subject = ${`payer:${payer.payerId}`}`,
      ),
    ).toBe(LIMITS.perPayerPerHour);
    expect(await payRows(sql`select count(*)::int as n from card_enrollments where payer_id = ${payer.payerId}`)).toBe(
      0,
    );

    // The window is the pay server's clock: an hour later the payer may try again.
    expect((await tryEnroll(payer, "10.0.0.1")).code).toBe("card_enrollment_rate_limited");
    clock.advance(3600);
    expect((await tryEnroll(payer, "10.0.0.1")).code).toBe("card_enrollment_refused");
    expect(await atIssuer(payer.payerId)).toBe(LIMITS.perPayerPerHour + 1);
  });

  it(`lets exactly ${LIMITS.perAddressPerHour} of ${BURST} concurrent tries from one address reach the issuer, whoever sends them`, async () => {
    const payers = await Promise.all(Array.from({ length: BURST }, () => enroller()));
    const answers = await Promise.all(payers.map((payer) => tryEnroll(payer, "10.0.0.2")));

    expect(tally(answers)).toEqual({
      card_enrollment_refused: LIMITS.perAddressPerHour,
      card_enrollment_rate_limited: BURST - LIMITS.perAddressPerHour,
    });
    let reached = 0;
    for (const payer of payers) reached += await atIssuer(payer.payerId);
    expect(reached).toBe(LIMITS.perAddressPerHour);
    expect(
      await payRows(sql`select count(*)::int as n from enrollment_limit_slots where subject = 'address:10.0.0.2'`),
    ).toBe(LIMITS.perAddressPerHour);
    // A payer turned away by the address claimed nothing for itself.
    let payerSlots = 0;
    for (const payer of payers)
      payerSlots += await payRows(
        sql`select count(*)::int as n from enrollment_limit_slots where subject = ${`payer:${payer.payerId}`}`,
      );
    expect(payerSlots).toBe(LIMITS.perAddressPerHour);
    // Another address is not held back.
    expect((await tryEnroll(payers[0]!, "10.0.0.3")).code).toBe("card_enrollment_refused");
  });

  it("sweeps tries once they left the window, not before", async () => {
    const count = () => payRows(sql`select count(*)::int as n from enrollment_limit_slots`);
    const payer = await enroller();
    clock.advance(3600);
    await net.pay.system.maintenance.runOnce(); // what earlier tests claimed is out of the window now
    expect(await count()).toBe(0);
    expect((await tryEnroll(payer, "10.0.0.4")).code).toBe("card_enrollment_refused");
    await net.pay.system.maintenance.runOnce();
    expect(await count()).toBe(2); // the payer's and the address's, still counting
    clock.advance(3600);
    await net.pay.system.maintenance.runOnce();
    expect(await count()).toBe(0);
  });
});
