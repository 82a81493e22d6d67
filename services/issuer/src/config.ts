/**
 * Configuration from the environment, read once at start. Every variable is optional: with none set, the host runs
 * the three default issuers on 127.0.0.1:4100, each with PGlite under `.data/issuer/<id>/db` and its certificate
 * and keys under `.data/issuer/<id>/keys/` (`npm start` puts the demo network's there on its first start), trusts
 * the network roots in `.data/issuer/network-roots.json`, and makes the acquirer secret and the operator token
 * itself. No default points at the committed test fixtures: tests name them (testing/fixtures.ts).
 */
import { join, resolve } from "node:path";
import { acquirerIdSchema, issuerIdSchema, Secret } from "@mpay/protocol";
import {
  clockFromEnv,
  ConfigError,
  envBoolean as onOff,
  envInt as int,
  splitList as list,
  systemAddresses,
  webAuthnRelyingParty,
  type Clock,
  type WebAuthnRelyingParty,
} from "@mpay/service-kit";
import { DEFAULT_ISSUER_IDS } from "./definitions.ts";
import { DEFAULT_FX_FEE_BPS, REFERENCE_RATES, type ReferenceRates } from "./fx/rates.ts";

export interface IssuerKeyFiles {
  /** The network's certificate of this issuer (compact JWS). */
  certificate: string;
  /** Its encryption private key (JWK, ECDH-ES+A256KW on P-256): the key of the certificate. */
  encryptionKey: string;
  /** Its card verification key (JWK `oct`): CVCs are recomputed under it, never stored. */
  cardVerificationKey: string;
}

export interface EnrollmentLimits {
  /** Failures (refused card data, wrong codes) per card within `cardWindowSeconds` before the card refuses enrollment. */
  cardFailures: number;
  /** One-time codes sent per card within `cardWindowSeconds`. */
  codesPerCard: number;
  cardWindowSeconds: number;
  /** Failures per device key within `deviceWindowSeconds`. */
  deviceFailures: number;
  deviceWindowSeconds: number;
  /** Failures per payer (the pay server's payerRef) within `payerWindowSeconds`. */
  payerFailures: number;
  payerWindowSeconds: number;
  codeTtlSeconds: number;
  /** Wrong codes before an enrollment is spent. */
  codeTries: number;
}

/**
 * The most one payment may take per authentication method, in the card's currency (KRW): a purchase in another
 * currency counts at its converted amount, before the foreign-transaction fee (fx/conversion.ts).
 */
export interface AuthenticationLimits {
  pin: number;
  passkey: number;
}

/** Foreign-currency purchases: the reference rates (fx/rates.ts) and the foreign-transaction fee. */
export interface FxConfig {
  rates: ReferenceRates;
  /** Basis points of the converted amount (100 = 1%); 0 charges none. */
  feeBps: number;
}

export interface IssuerHostConfig {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  /** PostgreSQL URL (each issuer gets a schema `issuer_<id>` there); undefined → PGlite per issuer. */
  databaseUrl: string | undefined;
  /** `.data/issuer`: secrets files, and per issuer `<id>/db` (PGlite) and `<id>/settlements`. */
  dataDir: string;
  /** Keep PGlite in `<dataDir>/<id>/db`; false → in memory (tests). */
  persistentEmbeddedDatabases: boolean;
  dbPoolSize: number;
  logLevel: string;
  issuers: Array<{ id: string; files: IssuerKeyFiles }>;
  /** The pay server's bearer secret on the acquirer link; undefined → made once into `<dataDir>/acquirer.json`. */
  acquirerSecret: Secret<string> | undefined;
  /** The back office's bearer token; undefined → made once into `<dataDir>/operator.json`. */
  operatorToken: Secret<string> | undefined;
  /**
   * The card-network roots this host trusts (a JSON array of `{ kid, jwk, name }`): a PIN statement counts only
   * under a key they certified, and each issuer's own certificate must be theirs.
   */
  networkRootsFile: string;
  /** The acquirer on the other end of the acquirer link: PIN statements count only under its certified keys. */
  acquirerId: string;
  /** When set, a PIN statement's `iss` must be this. */
  pinStatementIssuer: string | undefined;
  /**
   * The WebAuthn relying party the wallet's passkeys belong to: the web app's host name and origin (MPAY_WEB_URL, as
   * the pay server derives its own), unless ISSUER_PASSKEY_* say otherwise. Null when the web app is at an IP
   * address, where browsers allow no passkey: every passkey approval is then refused (service-kit relying-party.ts).
   */
  passkeys: WebAuthnRelyingParty | null;
  /** The simulator's test inbox (`GET /test-inbox`); off → codes go nowhere (no SMS gateway here). */
  testInbox: boolean;
  enrollmentLimits: EnrollmentLimits;
  authenticationLimits: AuthenticationLimits;
  fx: FxConfig;
  /** How often expired nonces are deleted and the settlement job looks for a closed day to write. */
  sweepIntervalMs: number;
  /**
   * Simulator-only fault for crash tests: the process kills itself (SIGKILL) after it commits an authorization
   * decision and before it answers, as a host that dies at the worst moment would.
   */
  killAfterAuthorizationCommit: boolean;
  /** The clock every rule reads (code TTLs, limit windows, statement windows); a drill's FileClock with ISSUER_TEST_CLOCK_FILE. */
  clock: Clock;
}

export const ACQUIRER_FILE = "acquirer.json";
export const OPERATOR_FILE = "operator.json";

export const DEFAULT_ENROLLMENT_LIMITS: EnrollmentLimits = {
  cardFailures: 5,
  codesPerCard: 5,
  cardWindowSeconds: 24 * 3600,
  deviceFailures: 10,
  deviceWindowSeconds: 3600,
  payerFailures: 10,
  payerWindowSeconds: 3600,
  codeTtlSeconds: 300,
  codeTries: 3,
};

export const DEFAULT_AUTHENTICATION_LIMITS: AuthenticationLimits = { pin: 2_000_000, passkey: 10_000_000 };

function secret(env: NodeJS.ProcessEnv, name: string): Secret<string> | undefined {
  const value = env[name];
  if (value === undefined || value === "") return undefined;
  if (value.length < 32)
    throw new ConfigError(name, `${name} must be at least 32 characters (for example 32 random bytes in base64url)`);
  return new Secret(value);
}

/** `ISSUER_FX_FEE_BPS`: 0 to 1000 (10%). */
function feeBps(env: NodeJS.ProcessEnv): number {
  const value = int(env, "ISSUER_FX_FEE_BPS", DEFAULT_FX_FEE_BPS, 0);
  if (value > 1000)
    throw new ConfigError("ISSUER_FX_FEE_BPS", `ISSUER_FX_FEE_BPS must be at most 1000 (10%), got ${value}`);
  return value;
}

/** `ISSUER_SAMPO_CERTIFICATE_FILE` for issuer `sampo`. */
export function issuerVariable(issuerId: string, what: string): string {
  return `ISSUER_${issuerId.toUpperCase().replaceAll("-", "_")}_${what}`;
}

/** Where an issuer's certificate and keys are unless configured: `<dataDir>/<id>/keys/`. */
export function defaultKeyFiles(dataDir: string, issuerId: string): IssuerKeyFiles {
  const dir = join(dataDir, issuerId, "keys");
  return {
    certificate: join(dir, "certificate.jws"),
    encryptionKey: join(dir, "encryption-key.private.jwk.json"),
    cardVerificationKey: join(dir, "card-verification-key.private.jwk.json"),
  };
}

/** The network roots file unless configured: `<dataDir>/network-roots.json`. */
export function defaultNetworkRootsFile(dataDir: string): string {
  return join(dataDir, "network-roots.json");
}

function keyFiles(env: NodeJS.ProcessEnv, dataDir: string, id: string): IssuerKeyFiles {
  const fallback = defaultKeyFiles(dataDir, id);
  const path = (what: string, file: string) => resolve(env[issuerVariable(id, what)] || file);
  return {
    certificate: path("CERTIFICATE_FILE", fallback.certificate),
    encryptionKey: path("ENCRYPTION_KEY_FILE", fallback.encryptionKey),
    cardVerificationKey: path("CVK_FILE", fallback.cardVerificationKey),
  };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): IssuerHostConfig {
  const ids = list(env["ISSUER_IDS"]);
  const issuerIds = ids.length > 0 ? ids : DEFAULT_ISSUER_IDS;
  for (const id of issuerIds) {
    if (!issuerIdSchema.safeParse(id).success)
      throw new ConfigError(
        "ISSUER_IDS",
        `ISSUER_IDS: ${JSON.stringify(id)} is not an issuer id (lower case, 2-32 characters)`,
      );
  }
  if (new Set(issuerIds).size !== issuerIds.length)
    throw new ConfigError("ISSUER_IDS", "ISSUER_IDS names an issuer twice");
  const dataDir = resolve(env["ISSUER_DATA_DIR"] ?? ".data/issuer");
  const acquirerId = env["ISSUER_ACQUIRER_ID"] || "mpay";
  if (!acquirerIdSchema.safeParse(acquirerId).success)
    throw new ConfigError(
      "ISSUER_ACQUIRER_ID",
      `ISSUER_ACQUIRER_ID: ${JSON.stringify(acquirerId)} is not an acquirer id (lower case, 2-32 characters)`,
    );
  // Where every service is, from the variables every MPay process reads the same way (service-kit/config).
  const { ports, urls } = systemAddresses(env);
  return {
    host: env["ISSUER_HOST"] ?? "127.0.0.1",
    port: ports.issuer,
    databaseUrl: env["ISSUER_DATABASE_URL"] || undefined,
    dataDir,
    persistentEmbeddedDatabases: true,
    dbPoolSize: int(env, "ISSUER_DB_POOL", 3, 1),
    logLevel: env["LOG_LEVEL"] ?? "info",
    issuers: issuerIds.map((id) => ({ id, files: keyFiles(env, dataDir, id) })),
    acquirerSecret: secret(env, "ISSUER_ACQUIRER_SECRET"),
    operatorToken: secret(env, "ISSUER_OPERATOR_TOKEN"),
    networkRootsFile: resolve(env["ISSUER_NETWORK_ROOTS_FILE"] || defaultNetworkRootsFile(dataDir)),
    acquirerId,
    pinStatementIssuer: env["ISSUER_PIN_STATEMENT_ISSUER"] || undefined,
    passkeys: webAuthnRelyingParty(env, "ISSUER", urls.web),
    testInbox: onOff(env, "ISSUER_TEST_INBOX", true),
    enrollmentLimits: DEFAULT_ENROLLMENT_LIMITS,
    authenticationLimits: DEFAULT_AUTHENTICATION_LIMITS,
    fx: { rates: REFERENCE_RATES, feeBps: feeBps(env) },
    sweepIntervalMs: int(env, "ISSUER_SWEEP_INTERVAL_MS", 10 * 60_000, 1000),
    killAfterAuthorizationCommit: onOff(env, "ISSUER_TEST_KILL_AFTER_COMMIT", false),
    clock: clockFromEnv(env, "ISSUER"),
  };
}

/** Where one issuer keeps its PGlite files and settlement files. */
export function issuerDataDir(config: IssuerHostConfig, issuerId: string): string {
  return join(config.dataDir, issuerId);
}
