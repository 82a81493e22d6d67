/**
 * A temporary SoftHSM2 token for tests: its own SOFTHSM2_CONF and token folder under the system's temp folder,
 * initialised with `softhsm2-util --init-token`, so no test ever touches the machine's tokens.
 * SOFTHSM2_CONF is read when the library is initialised: set it (setSoftHsmEnv) before the first provider opens.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Secret } from "@mpay/protocol";
import { DEFAULT_PKCS11_LIBRARY, type Pkcs11Settings } from "./pkcs11-token.ts";

export interface SoftHsmToken {
  conf: string;
  settings: Pkcs11Settings;
  /** The PIN in clear, for the checks that it appears nowhere. */
  pin: string;
  remove(): Promise<void>;
}

/** softhsm2 is installed (Debian package; .ci/run installs it). */
export function softHsmAvailable(): boolean {
  return existsSync(DEFAULT_PKCS11_LIBRARY) && existsSync("/usr/bin/softhsm2-util");
}

/**
 * A new token. `alongside` puts it in another token's folder and configuration instead of a new one, for a process
 * that needs several tokens at once (the library reads SOFTHSM2_CONF once, when the first session opens).
 */
export async function createSoftHsmToken(label = "mpay-test", alongside?: SoftHsmToken): Promise<SoftHsmToken> {
  const dir = alongside ? dirname(alongside.conf) : await mkdtemp(join(tmpdir(), "mpay-softhsm-"));
  const conf = join(dir, "softhsm2.conf");
  if (!alongside)
    await writeFile(
      conf,
      `directories.tokendir = ${dir}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`,
    );
  const pin = `pin-${randomBytes(6).toString("hex")}`;
  execFileSync("softhsm2-util", ["--init-token", "--free", "--label", label, "--pin", pin, "--so-pin", `so-${pin}`], {
    env: { ...process.env, SOFTHSM2_CONF: conf },
    stdio: "ignore",
  });
  return {
    conf,
    pin,
    settings: { library: DEFAULT_PKCS11_LIBRARY, slot: undefined, tokenLabel: label, pin: new Secret(pin) },
    remove: () => (alongside ? Promise.resolve() : rm(dir, { recursive: true, force: true })),
  };
}
