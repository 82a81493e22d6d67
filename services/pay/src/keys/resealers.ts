/**
 * The registry of every column that holds a blob from `keys.seal`, for `mpay vault rotate` (reseal.ts explains
 * the pattern). The key providers name no table of their clients: each context that stores sealed blobs defines
 * its Resealer beside its code, and the wiring (src/sealed-columns.ts) registers them all. A column missing from
 * the registry would stay on an old key version forever, and the rotation report could not say that none is left.
 */
import type { Resealer } from "./reseal.ts";

export type { Resealer } from "./reseal.ts";

/** The resealers of a whole system, each column once (two resealers of one column would race each other). */
export function resealerRegistry(resealers: readonly Resealer[]): readonly Resealer[] {
  const names = new Set<string>();
  for (const resealer of resealers) {
    if (names.has(resealer.name)) throw new Error(`two resealers for ${resealer.name}`);
    names.add(resealer.name);
  }
  return Object.freeze([...resealers]);
}
