/**
 * Tests only: has a network root certify the pay server's current PIN-statement key and installs the certificate,
 * as the operator does with `mpay statement-key show` and `install` (docs/network.md).
 */
import { signStatementKeyCertificate, type JoseKey } from "@mpay/crypto";
import type { PaySystem } from "../system.ts";

export interface RootSigner {
  kid: string;
  privateKey: JoseKey;
}

/** Certifies the newest key (for `acquirerId`, default `mpay`) for a day around now; answers the certificate. */
export async function certifyStatementKey(
  system: PaySystem,
  root: RootSigner,
  options: { acquirerId?: string; nbf?: number; exp?: number } = {},
): Promise<string> {
  const status = await system.statementSigner.status();
  const key = status.keys.at(-1);
  if (!key) throw new Error("the pay server has no statement key");
  const now = Math.floor(system.config.clock.now().getTime() / 1000);
  const certificate = await signStatementKeyCertificate(
    {
      acquirerId: options.acquirerId ?? "mpay",
      jwk: key.jwk,
      kid: key.kid,
      nbf: options.nbf ?? now - 3600,
      exp: options.exp ?? now + 30 * 86_400,
    },
    root.privateKey,
    root.kid,
  );
  await system.statementSigner.install(certificate);
  return certificate;
}
