/**
 * `GET /config.json`: where the pay server and the messenger are, and the card-network roots the wallet trusts.
 * It comes from the web origin, never from the pay server: a pay server that could name the roots could make the
 * wallet encrypt cards to a key of its own choosing (DESIGN.md "Split custody", point 4).
 */
import { readFile } from "node:fs/promises";
import { networkRootsFileSchema } from "@mpay/protocol";
import type { WebServerConfig } from "./config.ts";

/** The roots file's shape: root public keys (kid, P-256 JWK without `d`, name). */
export type NetworkRootsFile = ReturnType<typeof networkRootsFileSchema.parse>;

export interface WebConfigDocument {
  payUrl: string;
  messengerUrl: string;
  messengerWsUrl: string;
  webUrl: string;
  trustedRoots: NetworkRootsFile;
}

export class TrustedRootsError extends Error {
  override readonly name = "TrustedRootsError";
}

/** Reads and checks the roots file: public keys only (the schema refuses a `d`), at least one. */
export async function readTrustedRoots(file: string): Promise<NetworkRootsFile> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    throw new TrustedRootsError(
      `no card-network roots at ${file}: npm start makes the demo network's (or set MPAY_WEB_TRUSTED_ROOTS_FILE)`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = networkRootsFileSchema.safeParse(json);
  if (!parsed.success) throw new TrustedRootsError(`${file} is not a list of card-network root public keys`);
  return parsed.data;
}

export function webConfigDocument(config: WebServerConfig, trustedRoots: NetworkRootsFile): WebConfigDocument {
  return {
    payUrl: config.payUrl,
    messengerUrl: config.messengerUrl,
    messengerWsUrl: config.messengerWsUrl,
    webUrl: config.webUrl,
    trustedRoots,
  };
}
