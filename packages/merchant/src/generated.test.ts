/**
 * The SDK cannot drift from the server (issue 10): its types are regenerated here from the /openapi.json of a pay
 * server booted in this process and must equal the committed generated/openapi.ts byte for byte.
 */
import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { GENERATED_TYPES_PATH, generateMerchantTypes } from "../../../scripts/generate-merchant-types.ts";

describe("generated OpenAPI types", () => {
  it("match what the pay server's /openapi.json generates today", async () => {
    const [committed, fresh] = await Promise.all([readFile(GENERATED_TYPES_PATH, "utf8"), generateMerchantTypes()]);
    if (committed !== fresh) {
      const a = committed.split("\n");
      const b = fresh.split("\n");
      const line = a.findIndex((text, i) => text !== b[i]);
      const at = line === -1 ? a.length : line;
      expect.fail(
        `packages/merchant/src/generated/openapi.ts is out of date with the pay server's /openapi.json ` +
          `(first difference at line ${at + 1}: committed ${JSON.stringify(a[at])}, server ${JSON.stringify(b[at])}). ` +
          "Run npm run gen:merchant-types and commit the result (then fix what no longer typechecks).",
      );
    }
    expect(fresh).toContain("GetPaymentsId: {");
  });
});
