/**
 * How the pay server reaches the card issuers (the acquirer link). With nothing set it reaches the embedded
 * issuer simulator of `npm start` and reads the acquirer secret that simulator wrote into its data folder.
 */
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { IssuerError } from "./connector.ts";

export interface IssuerSettings {
  /** The issuer host: service-kit's `systemAddresses` (`MPAY_ISSUER_URL`, else it follows `ISSUER_HOST`/`ISSUER_PORT`). */
  url: string;
  /** `MPAY_ISSUER_ACQUIRER_SECRET`; else read from `acquirerSecretFile`. Never logged. */
  acquirerSecret: string | undefined;
  acquirerSecretFile: string;
  timeoutMs: number;
}

export function loadIssuerSettings(env: NodeJS.ProcessEnv, url: string, timeoutMs: number): IssuerSettings {
  return {
    url,
    // Defaults follow the embedded issuer simulator's own variables, so one set of folders and secrets serves both.
    acquirerSecret: env["MPAY_ISSUER_ACQUIRER_SECRET"] || env["ISSUER_ACQUIRER_SECRET"] || undefined,
    acquirerSecretFile: resolve(
      env["MPAY_ISSUER_ACQUIRER_FILE"] ?? join(env["ISSUER_DATA_DIR"] || ".data/issuer", "acquirer.json"),
    ),
    timeoutMs,
  };
}

/** The acquirer secret, from the settings or the simulator's file (read when first needed: it may start later). */
export async function acquirerSecretOf(settings: IssuerSettings): Promise<string> {
  if (settings.acquirerSecret) return settings.acquirerSecret;
  try {
    const stored = JSON.parse(await readFile(settings.acquirerSecretFile, "utf8")) as { secret?: unknown };
    if (typeof stored.secret === "string" && stored.secret.length >= 32) return stored.secret;
  } catch {
    // reported below
  }
  throw new IssuerError(
    "unavailable",
    "issuer_unavailable",
    `no acquirer secret: set MPAY_ISSUER_ACQUIRER_SECRET or start the issuer simulator (it writes ${settings.acquirerSecretFile})`,
  );
}
