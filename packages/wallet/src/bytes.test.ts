import { describe, expect, it } from "vitest";
import { arrayBufferBytes } from "./bytes.ts";

describe("arrayBufferBytes", () => {
  it("returns the same view over an ArrayBuffer, and copies a view over a SharedArrayBuffer", () => {
    const plain = Uint8Array.of(1, 2, 3);
    expect(arrayBufferBytes(plain)).toBe(plain);
    const shared = new Uint8Array(new SharedArrayBuffer(3));
    shared.set([4, 5, 6]);
    const copy = arrayBufferBytes(shared);
    expect(copy).not.toBe(shared);
    expect(copy.buffer).toBeInstanceOf(ArrayBuffer);
    expect([...copy]).toEqual([4, 5, 6]);
  });
});
