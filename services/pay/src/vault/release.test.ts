/**
 * The release JWE (release.ts) as the device's wallet reads it: made with node:crypto on the pay server, opened by
 * the wallet SDK's `openRelease` (jose over WebCrypto) with the one-time key the wallet made for this payment.
 */
import { openRelease } from "@mpay/wallet";
import { describe, expect, it } from "vitest";
import { ApiError } from "../http/errors.ts";
import { newReleaseKey } from "../testing/cards.ts";
import { encryptRelease, releaseKeyOf } from "./release.ts";

describe("the card's release to its device", () => {
  it("opens in the wallet with the one-time key: K_srv, then the records; K_srv is wiped here", async () => {
    const oneTime = await newReleaseKey();
    const kSrv = new Uint8Array(32).map((_, i) => i + 1);
    const released = { kSrv, sealedCard: "r1.1.AAAA.BBBB", sealedProfile: null, recordVersion: 3 };
    const jwe = await encryptRelease("card_1", released, releaseKeyOf(oneTime.jwk));
    expect(kSrv.every((byte) => byte === 0)).toBe(true);
    const opened = await openRelease(jwe, oneTime.privateKey);
    expect([...opened.kSrv]).toEqual(Array.from({ length: 32 }, (_, i) => i + 1));
    expect(opened.payload).toEqual({
      cardId: "card_1",
      sealedCard: "r1.1.AAAA.BBBB",
      sealedProfile: null,
      recordVersion: 3,
    });
    // Another payment's key does not open it.
    await expect(openRelease(jwe, (await newReleaseKey()).privateKey)).rejects.toThrow(/does not open/);
  });

  it("refuses a release key that is not a canonical P-256 point before any use", async () => {
    const { jwk } = await newReleaseKey();
    const y = Buffer.from(jwk.y, "base64url");
    y[31]! ^= 1;
    const p = Buffer.from("ffffffff00000001000000000000000000000000ffffffffffffffffffffffff", "hex");
    for (const bad of [
      { ...jwk, y: y.toString("base64url") },
      { ...jwk, x: p.toString("base64url") },
      { ...jwk, x: `${jwk.x.slice(0, 42)}+` },
      { ...jwk, crv: "P-384" },
      "not a key",
    ]) {
      let error: unknown;
      try {
        releaseKeyOf(bad);
      } catch (caught) {
        error = caught;
      }
      expect(error instanceof ApiError && error.code === "release_key_invalid", JSON.stringify(bad)).toBe(true);
    }
  });
});
