import { readdir } from "node:fs/promises";
import { is } from "drizzle-orm";
import { PgTable, getTableConfig } from "drizzle-orm/pg-core";
import { describe, expect, it } from "vitest";
import { RESEALERS } from "./sealed-columns.ts";

/** Sealed columns that are not `keys.seal` blobs, so no rotation re-seals them, and why. */
const NOT_KEY_PROVIDER_BLOBS: Record<string, string> = {
  "vault_keyring.sealed_key": "the shamir provider's key versions, sealed under its master key; a rekey re-seals them",
  "cards.sealed_card": "sealed on the payer's device under the card's DEK; the server cannot open it",
  "cards.sealed_profile": "sealed on the payer's device under the card's DEK; the server cannot open it",
};

/** `table.column` of every column of every context's schema.ts (drizzle.config.ts reads the same files). */
async function allColumns(): Promise<string[]> {
  const src = new URL("./", import.meta.url);
  const columns: string[] = [];
  for (const entry of await readdir(src, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    if (!(await readdir(new URL(`${entry.name}/`, src))).includes("schema.ts")) continue;
    const module = (await import(new URL(`${entry.name}/schema.ts`, src).href)) as Record<string, unknown>;
    for (const value of Object.values(module)) {
      if (!is(value, PgTable)) continue;
      const config = getTableConfig(value);
      for (const column of config.columns) columns.push(`${config.name}.${column.name}`);
    }
  }
  return columns;
}

describe("sealed columns", () => {
  it("registers a resealer for every sealed column of every context, so a rotation leaves none behind", async () => {
    const columns = await allColumns();
    const sealed = columns.filter((c) => /(^|[._])(sealed|wrapped)(_|$)/.test(c) && !(c in NOT_KEY_PROVIDER_BLOBS));
    expect(sealed.length).toBeGreaterThanOrEqual(7);
    expect(RESEALERS.map((r) => r.name).sort()).toEqual(sealed.sort());
    for (const name of Object.keys(NOT_KEY_PROVIDER_BLOBS)) expect(columns).toContain(name);
  });
});
