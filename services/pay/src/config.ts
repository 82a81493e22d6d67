/**
 * Configuration from the environment, read once at start. Every variable is optional: with none set, the pay
 * server runs on PGlite under `.data/pay` with the dev key provider.
 */
import { join, resolve } from "node:path";
import { Secret } from "@mpay/protocol";
import {
  clockFromEnv,
  ConfigError,
  envInt as int,
  systemAddresses,
  webAuthnRelyingParty,
  type Clock,
  type SystemAddresses,
} from "@mpay/service-kit";
import type { KeyProviderKind } from "./keys/provider.ts";
import type { MessengerClientSettings } from "./payers/messenger-client.ts";
import { DEFAULT_PKCS11_LIBRARY, DEFAULT_PKCS11_TOKEN_LABEL, type Pkcs11Settings } from "./keys/pkcs11/pkcs11-token.ts";
import { DEFAULT_DELIVERY_SETTINGS, type DeliverySettings } from "./webhooks/worker.ts";
import { loadIssuerSettings, type IssuerSettings } from "./issuers/settings.ts";
import { DEFAULT_ANNOUNCEMENT_SETTINGS, type AnnouncementSettings } from "./announcements/service.ts";
import { DEFAULT_ENROLLMENT_LIMITS, type EnrollmentLimits } from "./vault/enrollment-limits.ts";
import { DEFAULT_PUSH_LIMITS, type PushLimits } from "./checkout/push-limits.ts";
import type { RelyingParty } from "./passkeys/service.ts";
import { faultPlanFromEnv } from "./fault-points.ts";
import { loadClusterSettings, type ClusterSettings } from "./cluster-config.ts";
import { eventStreamFromEnv, type EventStreamSettings } from "./webhooks/events-relay-nats.ts";

export interface PayConfig {
  host: string;
  port: number;
  /** PostgreSQL URL; undefined → PGlite in `dataDir`. */
  databaseUrl: string | undefined;
  dataDir: string;
  /** Where PGlite keeps its files; undefined → in memory (tests). */
  embeddedDatabaseDir: string | undefined;
  dbPoolSize: number;
  keyProvider: KeyProviderKind;
  /** The HSM, when keyProvider is `pkcs11` (docs/key-providers.md). */
  pkcs11: Pkcs11Settings;
  /** Where the hosted checkout lives (apps/web); payments' checkoutUrl points there. */
  checkoutBaseUrl: string;
  approvalTtlSeconds: number;
  authorizationTtlSeconds: number;
  webhooks: DeliverySettings;
  /** Run the webhook and expiry workers in this process (every process may; they share work through the DB). */
  workers: boolean;
  expiryIntervalMs: number;
  logLevel: string;
  /** Requests per minute per API key (and per IP for unauthenticated requests). */
  rateLimitPerMinute: number;
  /** This server's public base URL (the messenger redirects payers back to it). */
  publicUrl: string;
  messenger: MessengerClientSettings;
  /** Delivery of MPay's announcements to the payer's messenger: retry backoff and the limit of one attempt. */
  announcements: AnnouncementSettings;
  payerSessionTtlSeconds: number;
  /** How long a device approved by another device waits before it can pay (others can cancel meanwhile). */
  deviceWaitingPeriodSeconds: number;
  /** The card issuers' host and the acquirer link's secret. */
  issuers: IssuerSettings;
  /** Card enrollment and recovery tries per payer and per client address within an hour (every try counts). */
  enrollmentLimits: EnrollmentLimits;
  /** The hosted checkout's pushes to a phone: per number and per client address within 10 minutes, per payment. */
  checkoutPushLimits: PushLimits;
  /**
   * The witness the audit heads go to (an issuer's `…/issuers/<id>/audit-heads`, on the acquirer link), every
   * `expiryIntervalMs`; null (`MPAY_AUDIT_WITNESS_URL=off`) sends none.
   */
  auditWitness: { url: string | null };
  /**
   * The WebAuthn relying party: passkeys belong to rpId and are accepted only from these origins. Null when the web
   * app is at an IP address and MPAY_PASSKEY_RP_ID is unset: browsers allow no passkey there (service-kit's
   * relying-party.ts), so passkeys are off and the PIN is the only way to approve.
   */
  passkeys: RelyingParty | null;
  /**
   * The clock every rule reads (waiting periods, TTLs, expiries, limit windows): the system's, or with
   * MPAY_TEST_CLOCK_FILE a drill's file clock (refused with NODE_ENV=production).
   */
  clock: Clock;
  /** Several processes behind the port (MPAY_PAY_PROCESSES) and Redis (REDIS_URL): cluster-config.ts. */
  cluster: ClusterSettings;
  /** NATS_URL (+ MPAY_NATS_STREAM, MPAY_NATS_SUBJECT_PREFIX): every event also goes to JetStream; null: DB only. */
  eventStream: EventStreamSettings | null;
}

/**
 * By default the first issuer of the embedded simulator witnesses the log (its default issuers start with `sampo`;
 * `ISSUER_IDS` names them when set), so `npm start` has a witness outside the pay database with nothing to set.
 */
function auditWitnessUrl(env: NodeJS.ProcessEnv, issuerUrl: string): string | null {
  const raw = env["MPAY_AUDIT_WITNESS_URL"];
  if (raw === "off") return null;
  if (raw) {
    if (!/^https?:\/\/[^\s]+$/i.test(raw))
      throw new ConfigError(
        "MPAY_AUDIT_WITNESS_URL",
        `MPAY_AUDIT_WITNESS_URL must be an http(s) URL or off, got ${JSON.stringify(raw)}`,
      );
    return raw.replace(/\/$/, "");
  }
  const firstIssuer =
    (env["ISSUER_IDS"] ?? "")
      .split(",")
      .map((id) => id.trim())
      .find((id) => id !== "") ?? "sampo";
  return `${issuerUrl}/issuers/${encodeURIComponent(firstIssuer)}/audit-heads`;
}

/** The web app's relying party (its host name and origin unless MPAY_PASSKEY_* say otherwise), named MPAY_PASSKEY_RP_NAME. */
function passkeysOf(env: NodeJS.ProcessEnv, webUrl: string): RelyingParty | null {
  const party = webAuthnRelyingParty(env, "MPAY", webUrl);
  return party && { ...party, rpName: env["MPAY_PASSKEY_RP_NAME"] || "MPay" };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): PayConfig {
  const provider = env["MPAY_KEK_PROVIDER"] ?? "dev";
  if (provider !== "dev" && provider !== "pkcs11" && provider !== "shamir") {
    throw new Error(`MPAY_KEK_PROVIDER must be dev, pkcs11 or shamir, got ${JSON.stringify(provider)}`);
  }
  const dataDir = resolve(env["MPAY_DATA_DIR"] ?? ".data/pay");
  // Where every service is, from the variables every MPay process reads the same way (service-kit/config).
  const { ports, urls }: SystemAddresses = systemAddresses(env);
  // PAY_TEST_FAULTS (crash drills): fault-points.ts reads it itself; checked here so a bad value stops the start.
  faultPlanFromEnv(env);
  return {
    host: env["PAY_HOST"] ?? "127.0.0.1",
    port: ports.pay,
    databaseUrl: env["DATABASE_URL"] || undefined,
    dataDir,
    embeddedDatabaseDir: join(dataDir, "db"),
    dbPoolSize: int(env, "MPAY_DB_POOL", 10, 1),
    keyProvider: provider,
    pkcs11: {
      library: env["MPAY_PKCS11_LIBRARY"] || DEFAULT_PKCS11_LIBRARY,
      slot: env["MPAY_PKCS11_SLOT"] ? int(env, "MPAY_PKCS11_SLOT", 0) : undefined,
      tokenLabel: env["MPAY_PKCS11_TOKEN_LABEL"] || DEFAULT_PKCS11_TOKEN_LABEL,
      // A Secret, so that logging the configuration can never print the PIN.
      pin: env["MPAY_PKCS11_PIN"] ? new Secret(env["MPAY_PKCS11_PIN"]) : undefined,
    },
    checkoutBaseUrl: urls.web,
    approvalTtlSeconds: int(env, "MPAY_APPROVAL_TTL_SECONDS", 15 * 60, 1),
    authorizationTtlSeconds: int(env, "MPAY_AUTHORIZATION_TTL_SECONDS", 7 * 86_400, 1),
    webhooks: {
      ...DEFAULT_DELIVERY_SETTINGS,
      // No attempt bound by default (retries stop at the 3-day horizon); set, it gives up sooner (the e2e test's).
      maxAttempts: env["MPAY_WEBHOOK_MAX_ATTEMPTS"] ? int(env, "MPAY_WEBHOOK_MAX_ATTEMPTS", 1, 1) : undefined,
      baseDelayMs: int(env, "MPAY_WEBHOOK_RETRY_BASE_MS", DEFAULT_DELIVERY_SETTINGS.baseDelayMs, 1),
      timeoutMs: int(env, "MPAY_WEBHOOK_TIMEOUT_MS", DEFAULT_DELIVERY_SETTINGS.timeoutMs, 100),
      pollIntervalMs: int(env, "MPAY_WEBHOOK_POLL_MS", DEFAULT_DELIVERY_SETTINGS.pollIntervalMs, 10),
    },
    workers: env["MPAY_WORKERS"] !== "off",
    expiryIntervalMs: int(env, "MPAY_EXPIRY_INTERVAL_MS", 30_000, 10),
    logLevel: env["LOG_LEVEL"] ?? "info",
    rateLimitPerMinute: int(env, "MPAY_RATE_LIMIT_PER_MINUTE", 6000, 1),
    publicUrl: urls.pay,
    messenger: {
      issuer: urls.messenger,
      clientId: env["MPAY_MESSENGER_CLIENT_ID"] ?? "mpay-pay",
      clientSecret: env["MPAY_MESSENGER_CLIENT_SECRET"] || undefined,
      // The embedded messenger writes it into its data folder: follow MESSENGER_DATA_DIR as the issuer's file follows ISSUER_DATA_DIR.
      clientSecretFile: resolve(
        env["MPAY_MESSENGER_CLIENT_FILE"] ?? join(env["MESSENGER_DATA_DIR"] || ".data/messenger", "pay-client.json"),
      ),
    },
    announcements: {
      ...DEFAULT_ANNOUNCEMENT_SETTINGS,
      retryBaseMs: int(env, "MPAY_ANNOUNCEMENT_RETRY_BASE_MS", DEFAULT_ANNOUNCEMENT_SETTINGS.retryBaseMs, 1),
      retryMaxMs: int(env, "MPAY_ANNOUNCEMENT_RETRY_MAX_MS", DEFAULT_ANNOUNCEMENT_SETTINGS.retryMaxMs, 1),
      timeoutMs: int(env, "MPAY_ANNOUNCEMENT_TIMEOUT_MS", DEFAULT_ANNOUNCEMENT_SETTINGS.timeoutMs, 100),
    },
    payerSessionTtlSeconds: int(env, "MPAY_PAYER_SESSION_TTL_SECONDS", 7 * 86_400, 60),
    deviceWaitingPeriodSeconds: int(env, "MPAY_DEVICE_WAITING_PERIOD_SECONDS", 86_400, 0),
    issuers: loadIssuerSettings(env, urls.issuer, int(env, "MPAY_ISSUER_TIMEOUT_MS", 10_000, 100)),
    enrollmentLimits: {
      perPayerPerHour: int(env, "MPAY_ENROLLMENTS_PER_PAYER_PER_HOUR", DEFAULT_ENROLLMENT_LIMITS.perPayerPerHour, 1),
      perAddressPerHour: int(
        env,
        "MPAY_ENROLLMENTS_PER_ADDRESS_PER_HOUR",
        DEFAULT_ENROLLMENT_LIMITS.perAddressPerHour,
        1,
      ),
    },
    checkoutPushLimits: {
      perPhonePer10Minutes: int(env, "MPAY_CHECKOUT_PUSHES_PER_PHONE", DEFAULT_PUSH_LIMITS.perPhonePer10Minutes, 1),
      perAddressPer10Minutes: int(
        env,
        "MPAY_CHECKOUT_PUSHES_PER_ADDRESS",
        DEFAULT_PUSH_LIMITS.perAddressPer10Minutes,
        1,
      ),
      perPayment: int(env, "MPAY_CHECKOUT_PUSHES_PER_PAYMENT", DEFAULT_PUSH_LIMITS.perPayment, 1),
    },
    auditWitness: { url: auditWitnessUrl(env, urls.issuer) },
    passkeys: passkeysOf(env, urls.web),
    clock: clockFromEnv(env, "MPAY"),
    cluster: loadClusterSettings(env, env["DATABASE_URL"] || undefined),
    eventStream: eventStreamFromEnv(env),
  };
}
