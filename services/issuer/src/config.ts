/**
 * Configuration from the environment, read once at start. Every variable is optional: with none set, the host runs
 * the three default issuers on 127.0.0.1:4100, each with PGlite under `.data/issuer/<id>/db`, its fixture
 * certificate and keys, and makes the acquirer secret and the operator token itself.
 */
import { join, resolve } from "node:path";
import { issuerIdSchema, Secret } from "@mpay/protocol";
import { clockFromEnv, type Clock } from "@mpay/service-kit";
import { DEFAULT_ISSUER_IDS } from "./definitions.ts";
import { cardVerificationKeyFile, certificateFile, encryptionKeyFile } from "./keys/fixtures.ts";

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

/** The most one payment may take per authentication method, in the card's currency (KRW). */
export interface AuthenticationLimits {
  pin: number;
  passkey: number;
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
  /** Where the pay server publishes the keys that sign PIN statements. */
  payJwksUrl: string;
  /** When set, a PIN statement's `iss` must be this. */
  pinStatementIssuer: string | undefined;
  /** The WebAuthn relying party the wallet's passkeys belong to (as the pay server's MPAY_PASSKEY_*). */
  passkeys: { rpId: string; origins: string[] };
  /** The simulator's test inbox (`GET /test-inbox`); off → codes go nowhere (no SMS gateway here). */
  testInbox: boolean;
  enrollmentLimits: EnrollmentLimits;
  authenticationLimits: AuthenticationLimits;
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

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 0): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be an integer ≥ ${min}, got ${JSON.stringify(raw)}`);
  return value;
}

function list(raw: string | undefined): string[] {
  return (raw ?? "")
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
}

function secret(env: NodeJS.ProcessEnv, name: string): Secret<string> | undefined {
  const value = env[name];
  if (value === undefined || value === "") return undefined;
  if (value.length < 32) throw new Error(`${name} must be at least 32 characters (for example 32 random bytes in base64url)`);
  return new Secret(value);
}

/** `ISSUER_SAMPO_CERTIFICATE_FILE` for issuer `sampo`. */
export function issuerVariable(issuerId: string, what: string): string {
  return `ISSUER_${issuerId.toUpperCase().replaceAll("-", "_")}_${what}`;
}

function keyFiles(env: NodeJS.ProcessEnv, id: string): IssuerKeyFiles {
  const path = (what: string, fallback: string) => resolve(env[issuerVariable(id, what)] || fallback);
  return {
    certificate: path("CERTIFICATE_FILE", certificateFile(id)),
    encryptionKey: path("ENCRYPTION_KEY_FILE", encryptionKeyFile(id)),
    cardVerificationKey: path("CVK_FILE", cardVerificationKeyFile(id)),
  };
}

function onOff(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = (env[name] ?? "").toLowerCase();
  if (raw === "") return fallback;
  if (["on", "1", "true", "yes"].includes(raw)) return true;
  if (["off", "0", "false", "no"].includes(raw)) return false;
  throw new Error(`${name} must be on or off, got ${JSON.stringify(env[name])}`);
}

function httpUrl(name: string, value: string): string {
  let url: URL | null = null;
  try {
    url = new URL(value);
  } catch {
    url = null;
  }
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) throw new Error(`${name} must be an http(s) URL, got ${JSON.stringify(value)}`);
  return url.toString();
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): IssuerHostConfig {
  const ids = list(env["ISSUER_IDS"]);
  const issuerIds = ids.length > 0 ? ids : DEFAULT_ISSUER_IDS;
  for (const id of issuerIds) {
    if (!issuerIdSchema.safeParse(id).success) throw new Error(`ISSUER_IDS: ${JSON.stringify(id)} is not an issuer id (lower case, 2-32 characters)`);
  }
  if (new Set(issuerIds).size !== issuerIds.length) throw new Error("ISSUER_IDS names an issuer twice");
  const origins = list(env["ISSUER_PASSKEY_ORIGINS"] ?? "http://localhost:4300").map((o) => new URL(httpUrl("ISSUER_PASSKEY_ORIGINS", o)).origin);
  return {
    host: env["ISSUER_HOST"] ?? "127.0.0.1",
    port: int(env, "ISSUER_PORT", 4100),
    databaseUrl: env["ISSUER_DATABASE_URL"] || undefined,
    dataDir: resolve(env["ISSUER_DATA_DIR"] ?? ".data/issuer"),
    persistentEmbeddedDatabases: true,
    dbPoolSize: int(env, "ISSUER_DB_POOL", 3, 1),
    logLevel: env["LOG_LEVEL"] ?? "info",
    issuers: issuerIds.map((id) => ({ id, files: keyFiles(env, id) })),
    acquirerSecret: secret(env, "ISSUER_ACQUIRER_SECRET"),
    operatorToken: secret(env, "ISSUER_OPERATOR_TOKEN"),
    // Follows the pay server's own variables when they are set (one environment for `npm start` and the demo).
    payJwksUrl: httpUrl(
      "ISSUER_PAY_JWKS_URL",
      env["ISSUER_PAY_JWKS_URL"] || `${(env["MPAY_PUBLIC_URL"] || `http://127.0.0.1:${env["PAY_PORT"] || "4000"}`).replace(/\/$/, "")}/.well-known/jwks.json`,
    ),
    pinStatementIssuer: env["ISSUER_PIN_STATEMENT_ISSUER"] || undefined,
    passkeys: { rpId: env["ISSUER_PASSKEY_RP_ID"] || "localhost", origins },
    testInbox: onOff(env, "ISSUER_TEST_INBOX", true),
    enrollmentLimits: DEFAULT_ENROLLMENT_LIMITS,
    authenticationLimits: DEFAULT_AUTHENTICATION_LIMITS,
    sweepIntervalMs: int(env, "ISSUER_SWEEP_INTERVAL_MS", 10 * 60_000, 1000),
    killAfterAuthorizationCommit: onOff(env, "ISSUER_TEST_KILL_AFTER_COMMIT", false),
    clock: clockFromEnv(env, "ISSUER"),
  };
}

/** Where one issuer keeps its PGlite files and settlement files. */
export function issuerDataDir(config: IssuerHostConfig, issuerId: string): string {
  return join(config.dataDir, issuerId);
}
