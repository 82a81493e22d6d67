/**
 * Where the other services are, and which card-network roots the wallet trusts: read once from this origin's
 * `/config.json` (served by apps/web/server), never from the pay server, so the pay server cannot change what the
 * wallet trusts.
 */
import { networkRootsFileSchema, type networkRootSchema } from "@mpay/protocol";
import type { z } from "zod";

export type NetworkRoot = z.infer<typeof networkRootSchema>;

export interface WebConfig {
  payUrl: string;
  messengerUrl: string;
  messengerWsUrl: string;
  webUrl: string;
  /**
   * The network roots file as the web server read it: a plain JSON array of root public keys (`[{ kid, jwk, name }]`,
   * the demo network's `<MPAY_NETWORK_DIR>/demo-roots.json`), no wrapper object — `@mpay/wallet`'s `trustedRootsOf`
   * takes it as it is.
   */
  trustedRoots: NetworkRoot[];
}

/** config.json is not what this app can run with; the message names the field, never the file's contents. */
export class WebConfigError extends Error {
  override readonly name = "WebConfigError";
}

const URL_FIELDS = ["payUrl", "messengerUrl", "messengerWsUrl", "webUrl"] as const;

/** Checks `/config.json`'s document; throws a WebConfigError for the first field that does not fit. */
export function parseWebConfig(json: unknown): WebConfig {
  if (typeof json !== "object" || json === null || Array.isArray(json))
    throw new WebConfigError("config.json must be a JSON object");
  const document = json as Record<string, unknown>;
  for (const field of URL_FIELDS) {
    const value = document[field];
    if (typeof value !== "string" || !URL.canParse(value))
      throw new WebConfigError(`config.json: ${field} must be an absolute URL`);
  }
  const roots = networkRootsFileSchema.safeParse(document.trustedRoots);
  if (!roots.success)
    throw new WebConfigError(
      "config.json: trustedRoots must be a JSON array of 1 to 16 card-network root public keys ({ kid, jwk, name }), as demo-roots.json holds them",
    );
  return {
    payUrl: document.payUrl as string,
    messengerUrl: document.messengerUrl as string,
    messengerWsUrl: document.messengerWsUrl as string,
    webUrl: document.webUrl as string,
    trustedRoots: roots.data,
  };
}

let loaded: WebConfig | undefined;

export async function loadConfig(): Promise<WebConfig> {
  const answer = await fetch("/config.json", { cache: "no-store" });
  if (!answer.ok) throw new WebConfigError(`config.json: HTTP ${answer.status}`);
  const json: unknown = await answer.json().catch(() => {
    throw new WebConfigError("config.json is not JSON");
  });
  loaded = parseWebConfig(json);
  return loaded;
}

/** The configuration; main.tsx loads it before the first render. */
export function appConfig(): WebConfig {
  if (!loaded) throw new Error("appConfig() before loadConfig()");
  return loaded;
}
