/**
 * How the pay server reaches the card issuers (the acquirer link). With nothing set it reaches the embedded
 * issuer simulator of `npm start` and reads the acquirer secret that simulator wrote into its data folder.
 */
import { join, resolve } from "node:path";
import { secretFromFile, type SecretFilePolicy } from "../keys/secret-file.ts";
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

/**
 * The simulator's file is looked at on every call, as when it was read on every call: a secret it rewrote (its data
 * folder made afresh) or a file it wrote after this server started is used by the next authorization. Looking is
 * one stat; the file is read and parsed again only when it changed (issue 11: a file read per authorization).
 */
const ACQUIRER_SECRET_FILE: SecretFilePolicy = { recheckAfterMs: 0, missingRecheckAfterMs: 0 };

/** The acquirer secret, from the settings or the simulator's file (read when first needed: it may start later). */
export async function acquirerSecretOf(settings: IssuerSettings): Promise<string> {
  if (settings.acquirerSecret) return settings.acquirerSecret;
  const stored = await secretFromFile(settings.acquirerSecretFile, "secret", ACQUIRER_SECRET_FILE);
  if (stored !== null) return stored;
  throw new IssuerError(
    "unavailable",
    "issuer_unavailable",
    `no acquirer secret: set MPAY_ISSUER_ACQUIRER_SECRET or start the issuer simulator (it writes ${settings.acquirerSecretFile})`,
  );
}
