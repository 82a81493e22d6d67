/**
 * Has the test network's root certify a pay server's PIN-statement key the way an operator does it (docs/network.md):
 * `mpay statement-key show --json` prints the key, the network signs a certificate of it, `mpay statement-key
 * install` takes it on stdin. For pay-server processes: on PGlite, run it before the server holds the data folder.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { signStatementKeyCertificate } from "@mpay/crypto";
import { testRootSigner } from "../../services/issuer/src/testing/fixtures.ts";
import type { StatementKeyStatus } from "../../services/pay/src/issuers/statement-signer.ts";

const MPAY_CLI = fileURLToPath(new URL("../../scripts/mpay.mjs", import.meta.url));

async function mpay(env: Record<string, string>, args: string[], input?: string): Promise<string> {
  const run = promisify(execFile)(process.execPath, [MPAY_CLI, ...args], {
    env: { PATH: process.env["PATH"] ?? "", ...env },
  });
  if (input !== undefined) {
    run.child.stdin?.end(input);
  }
  try {
    return (await run).stdout;
  } catch (error) {
    // `show` exits 1 while no key is certified, and still prints the keys.
    const stdout = (error as { stdout?: string }).stdout;
    if (args[1] === "show" && stdout) return stdout;
    throw error;
  }
}

/** Certifies the newest statement key of the pay server that `env` configures; answers the certificate. */
export async function certifyPayStatementKey(
  env: Record<string, string>,
  options: { acquirerId?: string } = {},
): Promise<string> {
  const status = JSON.parse(
    (await mpay(env, ["statement-key", "show", "--json"])).trim().split("\n").at(-1) ?? "",
  ) as StatementKeyStatus;
  const key = status.keys.at(-1);
  if (!key) throw new Error("the pay server showed no statement key");
  const root = await testRootSigner();
  const now = Math.floor(Date.now() / 1000);
  const certificate = await signStatementKeyCertificate(
    { acquirerId: options.acquirerId ?? "mpay", jwk: key.jwk, kid: key.kid, nbf: now - 3600, exp: now + 30 * 86_400 },
    root.privateKey,
    root.kid,
  );
  await mpay(env, ["statement-key", "install", "--json"], certificate + "\n");
  return certificate;
}
