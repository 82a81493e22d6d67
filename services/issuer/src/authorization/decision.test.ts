/**
 * The decision as one statement (store.ts `insertDeviceDecision`): the nonce is claimed once whatever it signed,
 * the hold claims open-to-buy atomically under concurrent payments, and what the claims turned into a decline is
 * recorded as such, with no hold.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EnrolledCard } from "@mpay/protocol";
import { testCard } from "../cards/test-cards.ts";
import { TestDevice } from "../testing/device.ts";
import { authorize, enroll, paymentRequest, termsFor } from "../testing/flows.ts";
import { openTestHost, testBackends, type TestHost } from "../testing/host.ts";

describe.each(testBackends())("the decision's claims [%s]", (backend) => {
  let host: TestHost;
  let device: TestDevice;
  let approves: EnrolledCard;
  let lowLimit: EnrolledCard;
  const openToBuy = async (cardRef: string) =>
    (await host.operator<{ openToBuy: number }>(`/issuers/sampo/backoffice/cards/${cardRef}`)).body.openToBuy;
  const record = async (paymentId: string) =>
    (await host.acquirer<Record<string, unknown>>("GET", `/issuers/sampo/authorizations/${paymentId}`)).body;

  beforeAll(async () => {
    host = await openTestHost(backend);
    device = await TestDevice.create();
    approves = await enroll(host, "sampo", device, testCard("sampo", "approves"));
    lowLimit = await enroll(host, "sampo", device, testCard("sampo", "lowLimit"));
  });
  afterAll(async () => {
    await host?.close();
  });

  it("declines do_not_honor a second payment under a nonce already spent, before any other decline, and holds nothing", async () => {
    const card = testCard("sampo", "approves");
    const before = await openToBuy(approves.cardRef);
    const first = termsFor(host, "sampo", approves.cardRef, { amount: 10_000 });
    expect((await authorize(host, "sampo", await paymentRequest(host, device, card, first))).body).toMatchObject({
      decision: "approved",
    });
    const again = termsFor(host, "sampo", approves.cardRef, { amount: 20_000, nonce: first.nonce });
    const answer = await authorize(host, "sampo", await paymentRequest(host, device, card, again));
    expect(answer.body).toMatchObject({
      paymentId: again.paymentId,
      decision: "declined",
      declineCode: "do_not_honor",
    });
    expect(await record(again.paymentId)).toMatchObject({
      status: "declined",
      decision: { declineCode: "do_not_honor" },
    });

    // The nonce comes before the authentication result in the order of checks: without one, still do_not_honor.
    const unauthenticated = termsFor(host, "sampo", approves.cardRef, { nonce: first.nonce });
    const { authentication: _, ...request } = await paymentRequest(host, device, card, unauthenticated);
    expect((await authorize(host, "sampo", request)).body).toMatchObject({ declineCode: "do_not_honor" });
    // A fresh nonce without an authentication result: that decline, and its nonce is spent all the same.
    const fresh = termsFor(host, "sampo", approves.cardRef);
    const { authentication: __, ...freshRequest } = await paymentRequest(host, device, card, fresh);
    expect((await authorize(host, "sampo", freshRequest)).body).toMatchObject({ declineCode: "authentication_failed" });
    const reuse = termsFor(host, "sampo", approves.cardRef, { nonce: fresh.nonce });
    expect((await authorize(host, "sampo", await paymentRequest(host, device, card, reuse))).body).toMatchObject({
      declineCode: "do_not_honor",
    });

    expect(await openToBuy(approves.cardRef)).toBe(before - 10_000);
  });

  it("lets only as many concurrent payments through as open-to-buy holds, and records the rest insufficient_funds", async () => {
    const card = testCard("sampo", "lowLimit");
    const before = await openToBuy(lowLimit.cardRef);
    expect(before).toBe(30_000);
    const terms = Array.from({ length: 4 }, () => termsFor(host, "sampo", lowLimit.cardRef, { amount: 12_000 }));
    const requests = await Promise.all(terms.map((t) => paymentRequest(host, device, card, t)));
    const answers = await Promise.all(requests.map((r) => authorize(host, "sampo", r)));
    const decisions = answers.map((a) => a.body.decision);
    expect(decisions.filter((d) => d === "approved")).toHaveLength(2);
    for (const answer of answers.filter((a) => a.body.decision === "declined"))
      expect(answer.body).toMatchObject({ declineCode: "insufficient_funds" });
    expect(await openToBuy(lowLimit.cardRef)).toBe(30_000 - 24_000);
    for (const [i, t] of terms.entries()) {
      const held = await record(t.paymentId);
      expect(held).toMatchObject({ status: decisions[i] });
    }
  });
});
