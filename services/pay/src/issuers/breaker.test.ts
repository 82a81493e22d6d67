import { describe, expect, it } from "vitest";
import { TestClock } from "@mpay/service-kit";
import { CircuitBreaker, type BreakerState } from "./breaker.ts";
import { GuardedConnector } from "./guarded.ts";
import { IssuerError, type IssuerConnector } from "./connector.ts";

const settings = { failures: 3, cooldownMs: 30_000 };

function fail(breaker: CircuitBreaker, times: number): void {
  for (let i = 0; i < times; i++) {
    const admission = breaker.admit();
    if (!admission.sent) throw new Error("expected the call to be sent");
    admission.report(false);
  }
}

describe("issuer circuit breaker", () => {
  it("opens after N consecutive failures, fails fast while open, lets one probe through after the cool-down", () => {
    const clock = new TestClock();
    const changes: BreakerState[] = [];
    const breaker = new CircuitBreaker(settings, clock, (s) => changes.push(s));
    fail(breaker, 2);
    // An answer in between resets the count: failures must be consecutive.
    const answered = breaker.admit();
    if (answered.sent) answered.report(true);
    fail(breaker, 2);
    expect(breaker.state).toBe("closed");
    fail(breaker, 1);
    expect(breaker.state).toBe("open");
    expect(breaker.admit().sent).toBe(false);
    expect(breaker.wouldSend()).toBe(false);
    clock.advance(29);
    expect(breaker.admit().sent).toBe(false);
    clock.advance(1);
    expect(breaker.state).toBe("half_open");
    expect(breaker.wouldSend()).toBe(true);
    const probe = breaker.admit();
    expect(probe.sent).toBe(true);
    // One probe at a time: the others still fail fast.
    expect(breaker.admit().sent).toBe(false);
    if (probe.sent) probe.report(false);
    // A failed probe opens it again for a whole cool-down.
    expect(breaker.state).toBe("open");
    clock.advance(29);
    expect(breaker.admit().sent).toBe(false);
    clock.advance(1);
    const second = breaker.admit();
    if (second.sent) second.report(true);
    expect(breaker.state).toBe("closed");
    expect(breaker.admit().sent).toBe(true);
    expect(changes).toEqual(["open", "half_open", "open", "half_open", "closed"]);
  });

  it("counts only silence: a refusal is an answer; an open breaker's calls are not sent and say so", async () => {
    const clock = new TestClock();
    let sent = 0;
    let answer: () => Promise<never> = () => Promise.reject(new IssuerError("refused", "card_unknown", "no", 404));
    const connector = {
      name: "test",
      authorize: () => (sent++, answer()),
    } as unknown as IssuerConnector;
    const guarded = new GuardedConnector(connector, settings, clock);
    const authorize = () => guarded.authorize("sampo", {} as never).catch((e: IssuerError) => e);
    for (let i = 0; i < 5; i++) expect(await authorize()).toMatchObject({ kind: "refused" });
    expect(guarded.states()).toEqual([{ issuerId: "sampo", state: "closed" }]);
    answer = () => Promise.reject(new IssuerError("unavailable", "issuer_timeout", "silence"));
    for (let i = 0; i < 3; i++) expect(await authorize()).toMatchObject({ kind: "unavailable" });
    expect(sent).toBe(8);
    expect(await authorize()).toMatchObject({ kind: "not_sent", code: "issuer_unavailable" });
    expect(sent).toBe(8); // failed fast: the issuer was not called
    // Another issuer's breaker is its own.
    expect(guarded.wouldSend("handae")).toBe(true);
    expect(guarded.wouldSend("sampo")).toBe(false);
    expect(guarded.states()).toEqual([{ issuerId: "sampo", state: "open" }]);
  });
});
