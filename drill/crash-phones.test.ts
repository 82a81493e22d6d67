/**
 * The load's phones (crash-phones.ts): a phone approves one payment at a time, so with N phones at most N
 * approvals run at once, the rest wait their turn in order, and a failed approval frees its phone. The phones
 * themselves (wallet, PIN, card) are exercised by the crash drill's short run in drill/crash.test.ts.
 */
import { describe, expect, it } from "vitest";
import { PhonePool } from "./crash-phones.ts";

const tick = () => new Promise((r) => setTimeout(r, 1));

describe("the load's phones", () => {
  it("runs at most one approval per phone, the waiting ones first come first served", async () => {
    const pool = new PhonePool(["phone A", "phone B"]);
    const busy = new Set<string>();
    let most = 0;
    const order: string[] = [];
    const approve = (payment: string) =>
      pool.with(async (phone) => {
        expect(busy.has(phone), `${phone} approves two payments at once`).toBe(false);
        busy.add(phone);
        most = Math.max(most, busy.size);
        order.push(payment);
        await tick();
        busy.delete(phone);
        return phone;
      });
    const phones = await Promise.all(["p1", "p2", "p3", "p4", "p5"].map(approve));
    expect(most).toBe(2);
    expect(order).toEqual(["p1", "p2", "p3", "p4", "p5"]);
    expect(new Set(phones)).toEqual(new Set(["phone A", "phone B"]));
  });

  it("frees a phone whose approval failed, and one phone takes the payments in turn", async () => {
    const pool = new PhonePool(["the only phone"]);
    const failed = pool.with(async () => {
      await tick();
      throw new Error("no answer");
    });
    const next = pool.with(async (phone) => phone);
    await expect(failed).rejects.toThrow("no answer");
    await expect(next).resolves.toBe("the only phone");
    expect(() => new PhonePool([])).toThrow(/at least one phone/);
  });
});
