/**
 * A value that must never reach a log, an error or an answer by accident (API keys, webhook secrets, later key
 * shares). It prints as `[redacted]` through JSON.stringify, util.inspect, String() and template literals; the
 * value is only reachable through `.peek()`, which makes every use visible in review.
 */
const INSPECT = Symbol.for("nodejs.util.inspect.custom");

export class Secret<T> {
  readonly #value: T;

  constructor(value: T) {
    this.#value = value;
  }

  peek(): T {
    return this.#value;
  }

  toJSON(): string {
    return "[redacted]";
  }

  toString(): string {
    return "[redacted]";
  }

  [INSPECT](): string {
    return "Secret([redacted])";
  }
}
