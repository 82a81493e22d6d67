import { describe, expect, it } from "vitest";
import { openRecord, sealRecord, sealedRecordVersion, type RecordBinding } from "./records.ts";
import { combineShares, newKeyShares, SHARE_BYTES } from "./shares.ts";

const text = (s: string) => new TextEncoder().encode(s);
const binding: RecordBinding = { purpose: "card", cardId: "card_1", payerId: "usr_1", deviceId: "dev_1", version: 2 };

describe("key shares", () => {
  it("makes two random 32-byte shares whose XOR is the DEK, each different from it", () => {
    const { dek, kDev, kSrv } = newKeyShares();
    expect([dek.length, kDev.length, kSrv.length]).toEqual([SHARE_BYTES, SHARE_BYTES, SHARE_BYTES]);
    expect(combineShares(kDev, kSrv)).toEqual(dek);
    expect(kDev).not.toEqual(dek);
    expect(kSrv).not.toEqual(dek);
    expect(newKeyShares().dek).not.toEqual(dek);
  });

  it("is not a key cut in two: no half of the DEK appears in either share", () => {
    const { dek, kDev, kSrv } = newKeyShares();
    const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
    for (const half of [dek.slice(0, 16), dek.slice(16)]) {
      expect(hex(kDev)).not.toContain(hex(half));
      expect(hex(kSrv)).not.toContain(hex(half));
    }
  });
});

describe("sealed records", () => {
  it("opens with its DEK and binding only", async () => {
    const { dek } = newKeyShares();
    const sealed = await sealRecord(dek, binding, text('{"pan":"4111111111111111"}'));
    expect(sealed).not.toContain("4111");
    expect(sealedRecordVersion(sealed)).toBe(2);
    expect(new TextDecoder().decode(await openRecord(dek, binding, sealed))).toBe('{"pan":"4111111111111111"}');
    await expect(openRecord(newKeyShares().dek, binding, sealed)).rejects.toMatchObject({ code: "record_invalid" });
    for (const other of [
      { cardId: "card_2" },
      { payerId: "usr_2" },
      { deviceId: "dev_2" },
      { purpose: "profile" as const },
    ]) {
      await expect(openRecord(dek, { ...binding, ...other }, sealed)).rejects.toMatchObject({ code: "record_invalid" });
    }
  });

  it("refuses a rolled-back version and a tampered record", async () => {
    const { dek } = newKeyShares();
    const old = await sealRecord(dek, { ...binding, version: 1 }, text("old"));
    await expect(openRecord(dek, binding, old)).rejects.toMatchObject({ code: "record_invalid" });
    // Relabelling the old record's header as version 2 breaks its authentication.
    await expect(openRecord(dek, binding, old.replace(/^r1\.1\./, "r1.2."))).rejects.toMatchObject({
      code: "record_invalid",
    });
    const sealed = await sealRecord(dek, binding, text("x"));
    const tampered = sealed.slice(0, -3) + (sealed.endsWith("AAA") ? "BBB" : "AAA");
    await expect(openRecord(dek, binding, tampered)).rejects.toMatchObject({ code: "record_invalid" });
  });

  it("uses a fresh nonce per seal", async () => {
    const { dek } = newKeyShares();
    expect(await sealRecord(dek, binding, text("same"))).not.toBe(await sealRecord(dek, binding, text("same")));
  });
});
