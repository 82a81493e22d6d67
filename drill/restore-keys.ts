/**
 * The key material a restore needs besides the database, per key provider (docs/key-providers.md), and how the
 * restore drill plays its custodians:
 * - `dev`: the key file `<MPAY_DATA_DIR>/dev-keys.json`, backed up beside the dump; the restored server opens at once.
 * - `shamir`: nothing at rest; M custodians hold shares. The restored server starts sealed until they unseal it
 *   (`POST /v1/vault/unseal`, as `mpay vault unseal` does).
 * - `pkcs11`: the HSM token. The restored server first runs against the recovery site's own, empty token (the
 *   vault's keys are not in the dump); then the HSM's custodians restore the token's backup (SoftHSM2: a copy of
 *   its token folder) and the server is started on it.
 */
import { copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { PaySystem } from "../services/pay/src/system.ts";
import type { ShamirKeyProvider } from "../services/pay/src/keys/shamir/shamir-provider.ts";
import type { Pkcs11KeyProvider } from "../services/pay/src/keys/pkcs11/pkcs11-provider.ts";
import { createSoftHsmToken, type SoftHsmToken } from "../services/pay/src/keys/pkcs11/softhsm-fixture.ts";
import { api } from "../e2e/support/http.ts";
import { copyFolder } from "./restore-backup.ts";

export type KeysKind = "dev" | "shamir" | "pkcs11";

/** shamir: 3 custodians, any 2 of whom unseal. */
const SHARES = 3;
const THRESHOLD = 2;

export interface KeyCustody {
  kind: KeysKind;
  /** What every pay-server process and `mpay` command of the source site is given. */
  env: Record<string, string>;
  /** Makes the vault in the setup system (shamir: the shares; pkcs11: key version 1 in the token). */
  initialize(system: PaySystem): Promise<void>;
  /** Opens a sealed setup system of this process (shamir: the custodians' shares). */
  unsealSystem(system: PaySystem): Promise<void>;
  /** Unseals a running pay server (shamir only; the others have nothing to unseal). */
  unsealServer(url: string): Promise<Array<{ sealed: boolean; sharesReceived: number }>>;
  /** shamir: M shares, one a line, for `mpay … --unseal` on stdin; "" for the others. */
  unsealInput(): string;
  /** The restore site before the custodians act: what its first pay server is given (the copy must open nothing). */
  restoredSealedEnv(restoredDataDir: string): Promise<Record<string, string>>;
  /** The restore site once the custodians acted (dev: the key file copied; pkcs11: the token restored). */
  restoredOpenEnv(restoredDataDir: string): Promise<Record<string, string>>;
  /** Secrets that must appear in no answer or log of the restored server (shares, the token's PIN). */
  secrets(): string[];
  close(): Promise<void>;
}

export async function keyCustody(kind: KeysKind, sourceDataDir: string): Promise<KeyCustody> {
  if (kind === "dev") return devCustody(sourceDataDir);
  if (kind === "shamir") return shamirCustody();
  return pkcs11Custody();
}

function devCustody(sourceDataDir: string): KeyCustody {
  const copyKeyFile = async (to: string) => {
    await mkdir(to, { recursive: true });
    await copyFile(join(sourceDataDir, "dev-keys.json"), join(to, "dev-keys.json"));
    return {};
  };
  return {
    kind: "dev",
    env: {},
    initialize: async () => {},
    unsealSystem: async () => {},
    unsealServer: async () => [],
    unsealInput: () => "",
    // The key file is part of the backup with dev: without it the copy would open nothing either, but dev keys are
    // for development only, so the drill restores them at once.
    restoredSealedEnv: copyKeyFile,
    restoredOpenEnv: copyKeyFile,
    secrets: () => [],
    close: async () => {},
  };
}

function shamirCustody(): KeyCustody {
  let shares: string[] = [];
  const env = { MPAY_KEK_PROVIDER: "shamir" };
  return {
    kind: "shamir",
    env,
    async initialize(system) {
      shares = (await (system.keys as ShamirKeyProvider).initialize(SHARES, THRESHOLD)).peek();
    },
    async unsealSystem(system) {
      const keys = system.keys as ShamirKeyProvider;
      // Not the first two of the three: any M custodians will do.
      for (const share of shares.slice(1, 1 + THRESHOLD)) await keys.unsealer.submitShare(share);
    },
    async unsealServer(url) {
      const progress: Array<{ sealed: boolean; sharesReceived: number }> = [];
      for (const share of shares.slice(0, THRESHOLD)) {
        const answer = await api<{ sealed: boolean; sharesReceived: number }>(url, "POST", "/v1/vault/unseal", null, {
          share,
        });
        if (answer.status !== 200) throw new Error(`unseal answered ${answer.status} ${answer.body ? "" : answer.raw}`);
        progress.push({ sealed: answer.body.sealed, sharesReceived: answer.body.sharesReceived });
      }
      return progress;
    },
    unsealInput: () => `${shares.slice(0, THRESHOLD).join("\n")}\n`,
    restoredSealedEnv: async () => env,
    restoredOpenEnv: async () => env,
    secrets: () => [...shares],
    close: async () => {},
  };
}

async function pkcs11Custody(): Promise<KeyCustody> {
  const vault = await createSoftHsmToken("mpay-drill");
  const made: SoftHsmToken[] = [vault];
  const folders: string[] = [];
  // The pkcs11 library reads SOFTHSM2_CONF once per process: the drill's own setup system uses the vault's token.
  process.env["SOFTHSM2_CONF"] = vault.conf;
  const envOf = (token: SoftHsmToken, conf = token.conf) => ({
    MPAY_KEK_PROVIDER: "pkcs11",
    MPAY_PKCS11_LIBRARY: token.settings.library,
    MPAY_PKCS11_TOKEN_LABEL: token.settings.tokenLabel,
    MPAY_PKCS11_PIN: token.pin,
    SOFTHSM2_CONF: conf,
  });
  return {
    kind: "pkcs11",
    env: envOf(vault),
    async initialize(system) {
      await (system.keys as Pkcs11KeyProvider).initialize();
    },
    unsealSystem: async () => {},
    unsealServer: async () => [],
    unsealInput: () => "",
    async restoredSealedEnv() {
      // The recovery site's HSM, initialised by its custodians under the same label, holds no key of the vault.
      const empty = await createSoftHsmToken("mpay-drill");
      made.push(empty);
      return envOf(empty);
    },
    async restoredOpenEnv() {
      // The HSM's own backup restored at the recovery site: SoftHSM2 keeps a token as a folder of files.
      const folder = await mkdtemp(join(tmpdir(), "mpay-drill-hsm-restored-"));
      folders.push(folder);
      const source = dirname(vault.conf);
      for (const entry of await readdir(source, { withFileTypes: true }))
        if (entry.isDirectory()) await copyFolder(join(source, entry.name), join(folder, entry.name));
      const conf = join(folder, "softhsm2.conf");
      await writeFile(
        conf,
        `directories.tokendir = ${folder}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`,
      );
      return envOf(vault, conf);
    },
    secrets: () => made.map((t) => t.pin),
    async close() {
      for (const token of made) await token.remove();
      for (const folder of folders) await rm(folder, { recursive: true, force: true });
    },
  };
}
