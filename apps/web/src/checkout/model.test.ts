import { describe, expect, it } from "vitest";
import { CheckoutApiError, parseCheckout, retryAfterSeconds, type Checkout, type PaymentStatus } from "./api.ts";
import { followCheckout, internationalPhoneNumber, phaseOf, pushFailure, retryWhen, safeRedirect } from "./model.ts";

const checkout = (status: PaymentStatus, redirectUrl: string | null = null): Checkout => ({
  object: "checkout",
  paymentId: "pay_4f9c2a7d1e3b5a6c",
  status,
  merchant: { name: "Seoul Linen Mall" },
  itemName: "Linen shirt",
  amount: 35_000,
  currency: "KRW",
  expiresAt: "2026-12-03T10:15:00.000Z",
  pairingCode: "K7P2",
  mode: "test",
  redirectUrl,
});

describe("a payment's phase", () => {
  it("waits while it requires approval, succeeds once authorized or captured, fails otherwise", () => {
    expect(phaseOf("requires_approval")).toBe("waiting");
    expect(phaseOf("authorized")).toBe("succeeded");
    expect(phaseOf("captured")).toBe("succeeded");
    for (const status of ["declined", "canceled", "expired"] as const) expect(phaseOf(status)).toBe("failed");
  });
});

describe("the checkout answer", () => {
  it("is taken when it has what the page shows, refused otherwise", () => {
    expect(parseCheckout(checkout("requires_approval"))).toEqual(checkout("requires_approval"));
    expect(() => parseCheckout({ ...checkout("requires_approval"), status: "approved" })).toThrow(CheckoutApiError);
    expect(() => parseCheckout({ ...checkout("requires_approval"), amount: 1.5 })).toThrow(/not a checkout/);
    expect(() => parseCheckout({ ...checkout("requires_approval"), merchant: null })).toThrow(/not a checkout/);
    expect(() => parseCheckout(null)).toThrow(/not a checkout/);
  });
});

describe("a refused push, in words", () => {
  it("says when a rate-limited push may be tried again, in the reader's language", () => {
    const limited = new CheckoutApiError("push_rate_limited", 429, "Too many", 240);
    expect(pushFailure(limited, "en")).toEqual({ key: "rateLimited", values: { when: "in 4 minutes" } });
    expect(pushFailure(limited, "ko")).toEqual({ key: "rateLimited", values: { when: "4분 후" } });
    expect(retryWhen(61, "en")).toBe("in 2 minutes");
    expect(retryWhen(30, "en")).toBe("in 30 seconds");
    expect(retryWhen(0, "en")).toBe("in 1 second");
    expect(pushFailure(new CheckoutApiError("push_rate_limited", 429, "Too many"), "en")).toEqual({
      key: "rateLimitedLater",
    });
  });

  it("tells an invalid number, a payment no longer pending and a lost connection apart", () => {
    expect(pushFailure(new CheckoutApiError("phone_number_invalid", 400, "bad"), "en").key).toBe("phoneInvalid");
    expect(pushFailure(new CheckoutApiError("payment_not_pending", 409, "done"), "en").key).toBe("notPending");
    expect(pushFailure(new CheckoutApiError("network_error", 0, "down"), "en").key).toBe("offline");
    expect(pushFailure(new CheckoutApiError("internal_error", 500, "oops"), "en").key).toBe("pushFailed");
    expect(pushFailure(new TypeError("boom"), "en").key).toBe("pushFailed");
  });

  it("reads Retry-After as seconds or as an HTTP date", () => {
    expect(retryAfterSeconds("120")).toBe(120);
    expect(retryAfterSeconds(new Date(90_500).toUTCString(), 0)).toBe(90);
    expect(retryAfterSeconds(null)).toBeNull();
    expect(retryAfterSeconds("soon")).toBeNull();
  });
});

describe("the number typed for a push", () => {
  it("turns a Korean mobile number as people type it into +82, and leaves everything else to the pay server", () => {
    expect(internationalPhoneNumber("010-1234-5678")).toBe("+821012345678");
    expect(internationalPhoneNumber(" 010 1234 5678 ")).toBe("+821012345678");
    expect(internationalPhoneNumber("011-234-5678")).toBe("+82112345678");
    expect(internationalPhoneNumber("+82 10-1234-5678")).toBe("+82 10-1234-5678");
    expect(internationalPhoneNumber("+1 415 555 0100")).toBe("+1 415 555 0100");
    // Not a Korean mobile number: sent as typed, refused by the pay server as phone_number_invalid.
    expect(internationalPhoneNumber("02-123-4567")).toBe("02-123-4567");
    expect(internationalPhoneNumber("12")).toBe("12");
  });
});

describe("the merchant's return address", () => {
  it("is followed only when it is a web address", () => {
    expect(safeRedirect("https://shop.example/done?paymentId=pay_1&status=authorized")).toBe(
      "https://shop.example/done?paymentId=pay_1&status=authorized",
    );
    expect(safeRedirect("http://127.0.0.1:4400/cancel")).toBe("http://127.0.0.1:4400/cancel");
    expect(safeRedirect("javascript:alert(1)")).toBeNull();
    expect(safeRedirect("data:text/html,hi")).toBeNull();
    expect(safeRedirect("/relative")).toBeNull();
    expect(safeRedirect(null)).toBeNull();
  });
});

describe("following a payment", () => {
  const noWait = async () => undefined;

  it("loads again until the payment is final, and shows every answer", async () => {
    const answers = [
      checkout("requires_approval"),
      checkout("requires_approval"),
      checkout("authorized", "https://s/r"),
    ];
    const seen: string[] = [];
    let loads = 0;
    await followCheckout({
      load: async () => answers[loads++] ?? checkout("captured"),
      onCheckout: (next) => seen.push(next.status),
      onError: () => expect.unreachable(),
      signal: new AbortController().signal,
      sleep: noWait,
    });
    expect(seen).toEqual(["requires_approval", "requires_approval", "authorized"]);
    expect(loads).toBe(3);
  });

  it("keeps going through failed loads, and stops for a payment that does not exist", async () => {
    const errors: unknown[] = [];
    const seen: string[] = [];
    const script: Array<() => Checkout> = [
      () => {
        throw new CheckoutApiError("network_error", 0, "down");
      },
      () => checkout("requires_approval"),
      () => {
        throw new CheckoutApiError("payment_not_found", 404, "gone");
      },
    ];
    let loads = 0;
    await followCheckout({
      load: async () => script[loads++]!(),
      onCheckout: (next) => seen.push(next.status),
      onError: (error) => errors.push(error),
      signal: new AbortController().signal,
      sleep: noWait,
    });
    expect(loads).toBe(3);
    expect(seen).toEqual(["requires_approval"]);
    expect(errors.map((error) => (error as CheckoutApiError).code)).toEqual(["network_error", "payment_not_found"]);
  });

  it("waits 1.5 s between loads and stops at once when the page leaves", async () => {
    const stop = new AbortController();
    const waits: number[] = [];
    let loads = 0;
    await followCheckout({
      load: async () => {
        loads++;
        return checkout("requires_approval");
      },
      onCheckout: () => undefined,
      onError: () => undefined,
      signal: stop.signal,
      sleep: async (ms) => {
        waits.push(ms);
        if (waits.length === 3) stop.abort();
      },
    });
    expect(waits).toEqual([1500, 1500, 1500]);
    expect(loads).toBe(3);
  });
});
