/**
 * A circuit breaker for one card issuer (issue 12). An issuer that stopped answering must not hold every payer of
 * that card company for a full timeout, nor tie up this server's connections while the other issuers' payments
 * wait: after `failures` consecutive calls without a usable answer the breaker opens and calls fail at once,
 * without being sent. After `cooldownMs` one call (the probe) goes through: its answer closes the breaker, its
 * silence opens it again for another cool-down. Time is the injected clock's, so tests move it instead of sleeping.
 */
import type { Clock } from "@mpay/service-kit";

export type BreakerState = "closed" | "open" | "half_open";

export interface BreakerSettings {
  /** Consecutive calls without a usable answer (`unavailable`) that open the breaker. */
  failures: number;
  /** How long an open breaker fails fast before it lets one probe through. */
  cooldownMs: number;
}

export const DEFAULT_BREAKER_SETTINGS: BreakerSettings = { failures: 5, cooldownMs: 30_000 };

/** What the breaker lets a call do: be sent (and report back), or fail fast without being sent. */
export type Admission = { sent: true; report(answered: boolean): void } | { sent: false };

export class CircuitBreaker {
  #state: BreakerState = "closed";
  #failures = 0;
  #openedAt = 0;
  #probing = false;

  constructor(
    private readonly settings: BreakerSettings,
    private readonly clock: Clock,
    private readonly onChange: (state: BreakerState) => void = () => {},
  ) {}

  /** The state as of now: an open breaker whose cool-down ended reads `half_open` (its next call is the probe). */
  get state(): BreakerState {
    if (this.#state === "open" && this.#cooledDown()) return "half_open";
    return this.#state;
  }

  /** True when a call now would be sent (closed, or a probe is due); reserves nothing. */
  wouldSend(): boolean {
    const state = this.state;
    return state === "closed" || (state === "half_open" && !this.#probing);
  }

  /** Admits one call. A sent call must report whether the issuer answered (a refusal is an answer). */
  admit(): Admission {
    const state = this.state;
    if (state === "closed") return { sent: true, report: (answered) => this.#report(answered, false) };
    if (state === "half_open" && !this.#probing) {
      this.#probing = true;
      this.#set("half_open");
      return { sent: true, report: (answered) => this.#report(answered, true) };
    }
    return { sent: false };
  }

  #report(answered: boolean, probe: boolean): void {
    if (probe) this.#probing = false;
    if (answered) {
      this.#failures = 0;
      if (this.#state !== "closed") this.#set("closed");
      return;
    }
    this.#failures++;
    // A failed probe opens again at once; a call that was sent while closed counts toward the threshold. A late
    // failure of a call sent before the breaker opened does not restart the cool-down.
    if (probe || (this.#state === "closed" && this.#failures >= this.settings.failures)) {
      this.#openedAt = this.clock.now().getTime();
      this.#set("open");
    }
  }

  #cooledDown(): boolean {
    return this.clock.now().getTime() - this.#openedAt >= this.settings.cooldownMs;
  }

  #set(state: BreakerState): void {
    this.#state = state;
    this.onChange(state);
  }
}
