/**
 * How the pay server reaches the card issuers (the acquirer link). With nothing set it reaches the embedded
 * issuer simulator of `npm start` and reads the acquirer secret that simulator wrote into its data folder.
 * An issuer on a host of its own (issue 12) is named by its own variables, `MPAY_ISSUER_<ID>_URL` (`<ID>` the
 * issuer id in capitals, `-` as `_`) with `_SECRET` or `_SECRET_FILE` and `_TIMEOUT_MS`; every other issuer is
 * reached at the default host.
 */
import { join, resolve } from "node:path";
import { issuerIdSchema } from "@mpay/protocol";
import { ConfigError, envInt } from "@mpay/service-kit";
import { secretFromFile, type SecretFilePolicy } from "../keys/secret-file.ts";
import { DEFAULT_BREAKER_SETTINGS, type BreakerSettings } from "./breaker.ts";
import { IssuerError } from "./connector.ts";

/** One issuer on a host of its own. */
export interface IssuerHostSettings {
  issuerId: string;
  url: string;
  /** `MPAY_ISSUER_<ID>_SECRET`; else read from `acquirerSecretFile` (`MPAY_ISSUER_<ID>_SECRET_FILE`, a JSON file
   * `{ "secret": "…" }` as the issuer host writes its acquirer.json). One of the two is required. Never logged. */
  acquirerSecret: string | undefined;
  acquirerSecretFile: string;
  timeoutMs: number;
}

export interface IssuerSettings {
  /** The issuer host: service-kit's `systemAddresses` (`MPAY_ISSUER_URL`, else it follows `ISSUER_HOST`/`ISSUER_PORT`). */
  url: string;
  /** `MPAY_ISSUER_ACQUIRER_SECRET`; else read from `acquirerSecretFile`. Never logged. */
  acquirerSecret: string | undefined;
  acquirerSecretFile: string;
  timeoutMs: number;
  /** Issuers on hosts of their own; the default host (`url`) serves every other issuer. */
  hosts?: IssuerHostSettings[];
  /** Each issuer's circuit breaker: `MPAY_ISSUER_BREAKER_FAILURES`, `MPAY_ISSUER_BREAKER_COOLDOWN_MS`. */
  breaker?: BreakerSettings;
}

const OWN_HOST_URL = /^MPAY_ISSUER_([A-Z][A-Z0-9_]*)_URL$/;

/** `MPAY_ISSUER_HANA_CARD_URL` → `hana-card`; null for a name that is no issuer's. */
function issuerOfVariable(name: string): string | null {
  const match = OWN_HOST_URL.exec(name);
  const id = match?.[1]?.toLowerCase().replaceAll("_", "-");
  return id && issuerIdSchema.safeParse(id).success ? id : null;
}

function issuerHosts(env: NodeJS.ProcessEnv, defaultTimeoutMs: number): IssuerHostSettings[] {
  const hosts: IssuerHostSettings[] = [];
  for (const name of Object.keys(env).sort()) {
    const issuerId = issuerOfVariable(name);
    const url = env[name];
    if (issuerId === null || !url) continue;
    if (!/^https?:\/\/[^\s]+$/i.test(url))
      throw new ConfigError(name, `${name} must be an http(s) URL, got ${JSON.stringify(url)}`);
    const prefix = name.slice(0, -"URL".length);
    const secret = env[`${prefix}SECRET`] || undefined;
    const secretFile = env[`${prefix}SECRET_FILE`] || undefined;
    // No default file: the embedded simulator's is the default host's, and another host's secret is its own.
    if (!secret && !secretFile)
      throw new ConfigError(
        name,
        `${name} is set: set ${prefix}SECRET or ${prefix}SECRET_FILE too (that host's acquirer secret)`,
      );
    hosts.push({
      issuerId,
      url: url.replace(/\/$/, ""),
      acquirerSecret: secret,
      acquirerSecretFile: resolve(secretFile ?? "."),
      timeoutMs: envInt(env, `${prefix}TIMEOUT_MS`, defaultTimeoutMs, 100),
    });
  }
  return hosts;
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
    hosts: issuerHosts(env, timeoutMs),
    breaker: {
      failures: envInt(env, "MPAY_ISSUER_BREAKER_FAILURES", DEFAULT_BREAKER_SETTINGS.failures, 1),
      cooldownMs: envInt(env, "MPAY_ISSUER_BREAKER_COOLDOWN_MS", DEFAULT_BREAKER_SETTINGS.cooldownMs, 100),
    },
  };
}

/**
 * The simulator's file is looked at on every call, as when it was read on every call: a secret it rewrote (its data
 * folder made afresh) or a file it wrote after this server started is used by the next authorization. Looking is
 * one stat; the file is read and parsed again only when it changed (issue 11: a file read per authorization).
 */
const ACQUIRER_SECRET_FILE: SecretFilePolicy = { recheckAfterMs: 0, missingRecheckAfterMs: 0 };

/** The acquirer secret, from the settings or the simulator's file (read when first needed: it may start later). */
export async function acquirerSecretOf(
  settings: Pick<IssuerSettings, "acquirerSecret" | "acquirerSecretFile">,
): Promise<string> {
  if (settings.acquirerSecret) return settings.acquirerSecret;
  const stored = await secretFromFile(settings.acquirerSecretFile, "secret", ACQUIRER_SECRET_FILE);
  if (stored !== null) return stored;
  throw new IssuerError(
    "unavailable",
    "issuer_unavailable",
    `no acquirer secret: set MPAY_ISSUER_ACQUIRER_SECRET (or MPAY_ISSUER_<ID>_SECRET) or start the issuer simulator (it writes ${settings.acquirerSecretFile})`,
  );
}
