import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { systemAddresses } from "@mpay/service-kit";
import { loadIssuerSettings } from "./settings.ts";

const settingsOf = (env: NodeJS.ProcessEnv) => loadIssuerSettings(env, systemAddresses(env).urls.issuer, 10_000);

describe("issuer settings", () => {
  it("default to the embedded simulator, and follow its own port, folder and secret variables", () => {
    expect(settingsOf({})).toMatchObject({
      url: "http://127.0.0.1:4100",
      acquirerSecret: undefined,
      acquirerSecretFile: resolve(".data/issuer/acquirer.json"),
    });
    expect(
      settingsOf({ ISSUER_PORT: "14100", ISSUER_DATA_DIR: "/tmp/x/issuer", ISSUER_ACQUIRER_SECRET: "s" }),
    ).toMatchObject({
      url: "http://127.0.0.1:14100",
      acquirerSecret: "s",
      acquirerSecretFile: "/tmp/x/issuer/acquirer.json",
    });
    // The pay server's own variables win.
    expect(
      settingsOf({
        ISSUER_PORT: "14100",
        MPAY_ISSUER_URL: "https://issuer.example/",
        MPAY_ISSUER_ACQUIRER_SECRET: "p",
        ISSUER_ACQUIRER_SECRET: "s",
      }),
    ).toMatchObject({
      url: "https://issuer.example",
      acquirerSecret: "p",
    });
  });
});
