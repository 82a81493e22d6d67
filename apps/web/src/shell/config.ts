/**
 * Where the other services are, and which card-network roots the wallet trusts: read once from this origin's
 * `/config.json` (served by apps/web/server), never from the pay server, so the pay server cannot change what the
 * wallet trusts.
 */
export interface WebConfig {
  payUrl: string;
  messengerUrl: string;
  messengerWsUrl: string;
  webUrl: string;
  /** The network roots file (`{ roots: [...] }`) as `@mpay/wallet`'s `trustedRootsOf` reads it. */
  trustedRoots: unknown;
}

let loaded: WebConfig | undefined;

export async function loadConfig(): Promise<WebConfig> {
  const answer = await fetch("/config.json", { cache: "no-store" });
  if (!answer.ok) throw new Error(`config.json: HTTP ${answer.status}`);
  loaded = (await answer.json()) as WebConfig;
  return loaded;
}

/** The configuration; main.tsx loads it before the first render. */
export function appConfig(): WebConfig {
  if (!loaded) throw new Error("appConfig() before loadConfig()");
  return loaded;
}
