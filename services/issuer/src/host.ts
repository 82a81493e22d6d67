/**
 * The issuer host: several card companies in one process, each with its own certificate and keys, its own
 * database (or PostgreSQL schema) and its own services. The HTTP server, the tests and the certify checks all start
 * from here, so they run the same code.
 */
import { join } from "node:path";
import pino, { type Logger } from "pino";
import { issuerDataDir, type IssuerHostConfig } from "./config.ts";
import { openIssuerDatabase, type Database } from "./db/client.ts";
import { IssuerApiError } from "./http/errors.ts";
import type { IssuerCore } from "./issuer-core.ts";
import { loadIssuerKeys, type IssuerKeys } from "./keys/issuer-keys.ts";
import { certificateIsCurrent, loadNetworkRoots } from "./keys/network-roots.ts";
import { resolveHostSecrets, type HostSecrets } from "./secrets.ts";
import { seedTestCards } from "./cards/seed.ts";
import { inboxOf, noSender, testInboxSender } from "./inbox/sender.ts";
import { EnrollmentService } from "./enrollment/service.ts";
import { PaymentAuthenticator } from "./authorization/authentication.ts";
import { AuthorizationService } from "./authorization/service.ts";
import { FxDesk } from "./fx/conversion.ts";
import { sweepNonces } from "./authorization/store.ts";
import { OperationService } from "./operations/service.ts";
import { DeviceService } from "./devices/service.ts";
import { RecurringService } from "./recurring/service.ts";
import { SettlementService } from "./settlement/service.ts";
import { WitnessService } from "./witness/service.ts";

export interface Issuer extends IssuerCore {
  readonly database: Database;
  readonly enrollments: EnrollmentService;
  readonly authorizations: AuthorizationService;
  readonly operations: OperationService;
  readonly devices: DeviceService;
  readonly recurring: RecurringService;
  readonly settlements: SettlementService;
  /** Keeps the pay server's signed audit heads (witness/service.ts). */
  readonly witness: WitnessService;
}

export interface InboxMessage {
  issuerId: string;
  issuerName: string;
  code: string;
  text: string;
  sentAt: string;
  expiresAt: string;
}

export interface IssuerHost {
  readonly config: IssuerHostConfig;
  readonly log: Logger;
  readonly secrets: HostSecrets;
  readonly issuers: ReadonlyMap<string, Issuer>;
  /** The issuer, or `issuer_unknown`. */
  get(issuerId: string): Issuer;
  /** Codes "sent" to a phone by every issuer, newest first (the simulator's test inbox). */
  inbox(phone: string): Promise<InboxMessage[]>;
  /** Expired nonces and old enrollment events out; yesterday's settlement files written. */
  sweep(): Promise<void>;
  close(): Promise<void>;
}

export interface HostOptions {
  /** The clock (tests move it); default the configuration's (the system's, or a drill's file clock). */
  now?: () => Date;
}

/** JSON logs. Our own log calls never pass card data, codes or secrets; the redaction is belt and braces. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    redact: {
      paths: [
        "pan",
        "*.pan",
        "cvc",
        "*.cvc",
        "code",
        "enrollment",
        "payment",
        "mandate",
        "statement",
        "req.headers.authorization",
        "*.authorization",
      ],
      censor: "[redacted]",
    },
  });
}

export async function openIssuerHost(
  config: IssuerHostConfig,
  log: Logger = createLogger(config.logLevel),
  options: HostOptions = {},
): Promise<IssuerHost> {
  if (config.issuers.length === 0) throw new Error("no issuers configured (ISSUER_IDS)");
  const now = options.now ?? config.clock.now;
  // Checked before anything opens: a rate that is not a positive decimal stops the start.
  const fx = new FxDesk(config.fx.rates, config.fx.feeBps);
  const roots = await loadNetworkRoots(config.networkRootsFile);
  const keys = new Map<string, IssuerKeys>();
  const current = new Map<string, boolean>();
  for (const { id, files } of config.issuers) {
    const issuerKeys = await loadIssuerKeys(id, files);
    keys.set(id, issuerKeys);
    current.set(
      id,
      await certificateIsCurrent(
        id,
        issuerKeys.certificateJws,
        files.certificate,
        config.networkRootsFile,
        roots,
        Math.floor(now().getTime() / 1000),
      ),
    );
  }
  const secrets = await resolveHostSecrets(config);

  const opened = await Promise.allSettled(
    config.issuers.map(async ({ id }) => {
      const dataDir = issuerDataDir(config, id);
      const database = await openIssuerDatabase({
        issuerId: id,
        url: config.databaseUrl,
        dataDir: config.databaseUrl || !config.persistentEmbeddedDatabases ? undefined : join(dataDir, "db"),
        poolSize: config.dbPoolSize,
      });
      return { id, dataDir, database };
    }),
  );
  const failed = opened.find((o): o is PromiseRejectedResult => o.status === "rejected");
  if (failed) {
    await Promise.all(opened.map((o) => (o.status === "fulfilled" ? o.value.database.close() : undefined)));
    throw failed.reason;
  }

  const issuers = new Map<string, Issuer>();
  for (const result of opened) {
    if (result.status !== "fulfilled") continue;
    const { id, dataDir, database } = result.value;
    const issuerKeys = keys.get(id)!;
    const core: IssuerCore = {
      id,
      name: issuerKeys.certificate.name,
      db: database.db,
      keys: issuerKeys,
      now,
      log: log.child({ issuerId: id }),
    };
    const seeded = await seedTestCards(database.db, id, now());
    if (seeded > 0) core.log.info({ cards: seeded }, "test cards seeded");
    if (!current.get(id)) {
      const window = {
        nbf: new Date(issuerKeys.certificate.nbf * 1000).toISOString(),
        exp: new Date(issuerKeys.certificate.exp * 1000).toISOString(),
      };
      core.log.warn(window, "the issuer certificate is outside its validity window: wallets will refuse it");
    }
    const authenticator = new PaymentAuthenticator(core, {
      passkeys: config.passkeys,
      pinStatementIssuer: config.pinStatementIssuer,
      networkRoots: roots,
      acquirerId: config.acquirerId,
    });
    const authorizations = new AuthorizationService(core, authenticator, config.authenticationLimits, fx);
    issuers.set(id, {
      ...core,
      database,
      enrollments: new EnrollmentService(core, config.enrollmentLimits, config.testInbox ? testInboxSender : noSender),
      authorizations,
      operations: new OperationService(core),
      devices: new DeviceService(core),
      recurring: new RecurringService(core, (...args) => authorizations.claimNonce(...args), fx),
      settlements: new SettlementService(core, join(dataDir, "settlements")),
      witness: new WitnessService(core),
    });
  }

  return {
    config,
    log,
    secrets,
    issuers,
    get(issuerId) {
      const issuer = issuers.get(issuerId);
      if (!issuer)
        throw new IssuerApiError("issuer_unknown", "No issuer with this id is hosted here; GET /issuers lists them.");
      return issuer;
    },
    async inbox(phone) {
      const perIssuer = await Promise.all(
        [...issuers.values()].map(async (issuer) =>
          (await inboxOf(issuer.db, phone)).map((m) => ({
            issuerId: issuer.id,
            issuerName: issuer.name,
            code: m.code,
            text: m.text,
            sentAt: m.sentAt.toISOString(),
            expiresAt: m.expiresAt.toISOString(),
          })),
        ),
      );
      return perIssuer.flat().sort((a, b) => (a.sentAt < b.sentAt ? 1 : a.sentAt > b.sentAt ? -1 : 0));
    },
    async sweep() {
      for (const issuer of issuers.values()) {
        const at = now();
        const [nonces, events] = [await sweepNonces(issuer.db, at), await issuer.enrollments.sweep(at)];
        if (nonces + events > 0) issuer.log.debug({ nonces, events }, "swept expired rows");
        await issuer.settlements.writeClosedDays();
      }
    },
    async close() {
      await Promise.all([...issuers.values()].map((issuer) => issuer.database.close()));
    },
  };
}
