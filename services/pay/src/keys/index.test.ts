import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openKeyProvider } from "./index.ts";
import { KeyProviderError } from "./provider.ts";

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "mpay-keys-"));
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

describe("openKeyProvider", () => {
  it("opens the dev provider on <dataDir>/dev-keys.json", async () => {
    const provider = await openKeyProvider({ kind: "dev", dataDir, log: () => undefined });
    expect(provider.kind).toBe("dev");
    expect(provider.isSealed()).toBe(false);
    expect((await stat(join(dataDir, "dev-keys.json"))).isFile()).toBe(true);
    await provider.close();
  });

  it.each(["pkcs11", "shamir"] as const)("refuses %s until it exists", async (kind) => {
    const error = await openKeyProvider({ kind, dataDir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeyProviderError);
    expect((error as KeyProviderError).code).toBe("provider_misconfigured");
    expect((error as KeyProviderError).message).toMatch(/not available yet/);
  });
});
