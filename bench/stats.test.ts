import { describe, expect, it } from "vitest";
import { percentile, percentileOfSorted, Samples, summarize } from "./stats.ts";

describe("percentile (nearest rank)", () => {
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1); // 1..100

  it("picks the value at rank ceil(p/100 · n)", () => {
    expect(percentile(hundred, 50)).toBe(50);
    expect(percentile(hundred, 99)).toBe(99);
    expect(percentile(hundred, 99.9)).toBe(100);
    expect(percentile(hundred, 100)).toBe(100);
    expect(percentile(hundred, 1)).toBe(1);
    expect(percentile([15, 20, 35, 40, 50], 30)).toBe(20);
    expect(percentile([15, 20, 35, 40, 50], 40)).toBe(20);
    expect(percentile([15, 20, 35, 40, 50], 50)).toBe(35);
  });

  it("p0 is the minimum, and it never interpolates", () => {
    expect(percentile([3, 1, 2], 0)).toBe(1);
    expect(percentile([10, 20], 50)).toBe(10);
    expect(percentile([10, 20], 51)).toBe(20);
  });

  it("does not depend on the input order and leaves the input alone", () => {
    const values = [9, 3, 7, 1, 5];
    expect(percentile(values, 50)).toBe(5);
    expect(values).toEqual([9, 3, 7, 1, 5]);
  });

  it("sorts numerically, not as strings", () => {
    expect(percentile([100, 9, 20], 100)).toBe(100);
    expect(percentile([100, 9, 20], 0)).toBe(9);
  });

  it("handles one value and no value", () => {
    expect(percentile([42], 0)).toBe(42);
    expect(percentile([42], 99)).toBe(42);
    expect(percentile([], 50)).toBeNaN();
  });

  it("refuses a p outside 0..100 and NaN samples", () => {
    expect(() => percentileOfSorted([1], 101)).toThrow(RangeError);
    expect(() => percentileOfSorted([1], -1)).toThrow(RangeError);
    expect(() => percentile([1, Number.NaN], 50)).toThrow(RangeError);
  });
});

describe("summarize and Samples", () => {
  it("summarizes many samples added one by one", () => {
    const samples = new Samples();
    for (let i = 1000; i >= 1; i--) samples.add(i); // more than the initial capacity, in reverse order
    expect(samples.length).toBe(1000);
    expect(samples.summary()).toEqual({ count: 1000, min: 1, mean: 500.5, p50: 500, p90: 900, p99: 990, max: 1000 });
  });

  it("reports NaN for an empty set", () => {
    const s = summarize([]);
    expect(s.count).toBe(0);
    expect(s.p50).toBeNaN();
    expect(s.max).toBeNaN();
  });
});
