import { describe, expect, it } from "vitest";
import { PAYMENT_STATUSES } from "@mpay/protocol";
import { ApiError } from "../http/errors.ts";
import { canTransition, isFinal, nextStatus, type PaymentAction } from "./state-machine.ts";

const ACTIONS: PaymentAction[] = ["approve", "decline", "capture", "cancel", "expire", "refund"];

describe("payment state machine", () => {
  it("allows exactly the transitions of DESIGN.md", () => {
    const allowed = PAYMENT_STATUSES.flatMap((from) =>
      ACTIONS.filter((a) => canTransition(from, a)).map((a) => `${from} -${a}-> ${nextStatus(from, a)}`),
    );
    expect(allowed.sort()).toEqual(
      [
        "requires_approval -approve-> authorized",
        "requires_approval -decline-> declined",
        "requires_approval -cancel-> canceled",
        "requires_approval -expire-> expired",
        "authorized -capture-> captured",
        "authorized -cancel-> canceled",
        "authorized -expire-> expired",
        "captured -refund-> captured",
      ].sort(),
    );
  });

  it("refuses every other transition with a 409 payment_invalid_state", () => {
    for (const from of PAYMENT_STATUSES) {
      for (const action of ACTIONS.filter((a) => !canTransition(from, a))) {
        try {
          nextStatus(from, action);
          expect.unreachable(`${from} ${action} should fail`);
        } catch (e) {
          expect(e).toBeInstanceOf(ApiError);
          expect((e as ApiError).code).toBe("payment_invalid_state");
          expect((e as ApiError).statusCode).toBe(409);
        }
      }
    }
  });

  it("knows the final states", () => {
    expect(PAYMENT_STATUSES.filter(isFinal).sort()).toEqual(["canceled", "declined", "expired"]);
  });
});
