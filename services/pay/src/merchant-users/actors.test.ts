/**
 * An audited merchant action names who did it from the request's MerchantAuth (`auth.actor`): `merchant:mch_…` for
 * a secret key, `merchant_user:mus_…` for a dashboard user. A context that writes `merchant:${…}` itself would put a
 * user's action under the key's name, so only the merchants context, which makes MerchantAuth, may spell it.
 */
import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const SRC = fileURLToPath(new URL("../", import.meta.url));

async function sources(dir: string): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await sources(path)));
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts")) files.push(path);
  }
  return files;
}

describe("audit actors of merchant actions", () => {
  it("come from auth.actor: no context builds merchant:${…} itself", async () => {
    const offenders: string[] = [];
    for (const file of await sources(SRC)) {
      const name = relative(SRC, file);
      if (name === join("merchants", "service.ts") || name.startsWith("testing")) continue;
      const text = await readFile(file, "utf8");
      if (/[`"']merchant:\$\{/.test(text)) offenders.push(name);
    }
    expect(offenders).toEqual([]);
  });
});
