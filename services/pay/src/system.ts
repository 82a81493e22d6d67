/**
 * The pay server's parts wired together: database, key provider, every context's service, and the background
 * workers. The HTTP server (app.ts), the CLI and the tests all start from here, so they run the same code.
 */
import pino, { type Logger } from "pino";
import { migrateDatabase, openDatabase, type Database } from "./db/client.ts";
import { openKeyProvider } from "./keys/index.ts";
import type { KeyProvider } from "./keys/provider.ts";
import { AuditService } from "./audit/service.ts";
import { LedgerService } from "./ledger/service.ts";
import { MerchantService } from "./merchants/service.ts";
import { PaymentService } from "./payments/service.ts";
import { RefundService } from "./refunds/service.ts";
import { WebhookService } from "./webhooks/service.ts";
import { MessengerClient } from "./payers/messenger-client.ts";
import { PayerService } from "./payers/service.ts";
import { DeviceService } from "./devices/service.ts";
import { PinService } from "./pin/service.ts";
import { ApprovalService } from "./approvals/service.ts";
import { PasskeyService } from "./passkeys/service.ts";
import { DeliveryWorker } from "./webhooks/worker.ts";
import { MaintenanceWorker } from "./maintenance.ts";
import { IssuerService } from "./issuers/service.ts";
import { SimulatorConnector } from "./issuers/simulator/connector.ts";
import type { IssuerConnector } from "./issuers/connector.ts";
import { acquirerSecretOf } from "./issuers/settings.ts";
import { IssuerOperations } from "./issuers/operations.ts";
import { IssuerReconciler } from "./issuers/reconciler.ts";
import { StatementSigner } from "./issuers/statement-signer.ts";
import { VaultService } from "./vault/service.ts";
import { AuthorizationService } from "./authorizations/service.ts";
import { MandateService } from "./mandates/service.ts";
import { SharedDetailsService } from "./shared-details/service.ts";
import { purgeIdempotencyKeys } from "./http/idempotency.ts";
import type { PayConfig } from "./config.ts";

export interface PaySystem {
  config: PayConfig;
  database: Database;
  keys: KeyProvider;
  log: Logger;
  audit: AuditService;
  ledger: LedgerService;
  merchants: MerchantService;
  payments: PaymentService;
  refunds: RefundService;
  webhooks: WebhookService;
  payers: PayerService;
  devices: DeviceService;
  pins: PinService;
  approvals: ApprovalService;
  passkeys: PasskeyService;
  issuers: IssuerService;
  vault: VaultService;
  authorizations: AuthorizationService;
  mandates: MandateService;
  sharedDetails: SharedDetailsService;
  statementSigner: StatementSigner;
  reconciler: IssuerReconciler;
  deliveryWorker: DeliveryWorker;
  maintenance: MaintenanceWorker;
  /** Starts the background workers (when config.workers). */
  startWorkers(): void;
  close(): Promise<void>;
}

/**
 * How requests appear in logs: method, path and addresses only. Query strings are cut: the sign-in callback
 * carries an authorization code and state there, and no query string is worth the risk.
 */
export const LOG_SERIALIZERS = {
  req(request: { method?: string; url?: string; hostname?: string; ip?: string }) {
    return { method: request.method, url: request.url?.split("?")[0], host: request.hostname, remoteAddress: request.ip };
  },
};

/** JSON logs; `fd` 2 sends them to stderr (the CLI keeps stdout for its answers). */
export function createLogger(level: string, fd: 1 | 2 = 1): Logger {
  return pino({
    serializers: LOG_SERIALIZERS,
    level,
    // Belt and braces: these paths never carry secrets in our own log calls, but a future careless one is cut.
    redact: { paths: ["req.headers.authorization", "headers.authorization", "*.secret", "*.secretKey", "*.webhookSecret"], censor: "[redacted]" },
  }, pino.destination({ fd, sync: fd === 2 }));
}

export interface OpenOptions {
  /** The card network; default the simulator's HTTP connector at `config.issuers.url`. */
  issuerConnector?: IssuerConnector;
}

export async function openPaySystem(config: PayConfig, log: Logger = createLogger(config.logLevel), options: OpenOptions = {}): Promise<PaySystem> {
  const database = await openDatabase({ url: config.databaseUrl, dataDir: config.embeddedDatabaseDir, poolSize: config.dbPoolSize });
  let opened: KeyProvider | undefined;
  try {
    await migrateDatabase(database);
    const keys = (opened = await openKeyProvider({ kind: config.keyProvider, dataDir: config.dataDir, db: database.db, pkcs11: config.pkcs11, log: (m) => log.warn(m) }));
    const db = database.db;
    const audit = new AuditService(db, keys);
    const ledger = new LedgerService();
    const merchants = new MerchantService(db, keys, audit);
    await merchants.assertProviderFitsKeys();
    const payments = new PaymentService(db, ledger, config);
    const refunds = new RefundService(db, payments, ledger, audit);
    const webhooks = new WebhookService(db, keys, audit);
    const payers = new PayerService(db, new MessengerClient(config.messenger, `${config.publicUrl}/v1/payer/auth/callback`), config.payerSessionTtlSeconds);
    const devices = new DeviceService(db, audit, config.deviceWaitingPeriodSeconds);
    const pins = new PinService(db, keys, devices, audit, config.deviceWaitingPeriodSeconds);
    const connector =
      options.issuerConnector ?? new SimulatorConnector({ baseUrl: config.issuers.url, acquirerSecret: () => acquirerSecretOf(config.issuers), timeoutMs: config.issuers.timeoutMs });
    const issuers = new IssuerService(connector);
    const issuerOperations = new IssuerOperations(issuers);
    payments.useIssuerOperations(issuerOperations);
    refunds.useIssuerOperations(issuerOperations);
    const vault = new VaultService(db, keys, devices, issuers, audit);
    devices.onRevocation({ inTransaction: (tx, device) => vault.forgetDevice(tx, device), afterCommit: async (device) => void (await vault.sendUnbinds(device.id)) });
    const approvals = new ApprovalService(db, payments, merchants, devices, pins, vault);
    const passkeys = new PasskeyService(db, devices, audit, config.passkeys, pins);
    approvals.usePasskeys(passkeys);
    const statementSigner = new StatementSigner(db, keys, config.publicUrl, config.clock);
    const mandates = new MandateService(db, keys, issuers, audit);
    const sharedDetails = new SharedDetailsService(db, keys);
    const authorizations = new AuthorizationService(db, payments, approvals, issuers, statementSigner, mandates, sharedDetails, log.child({ context: "authorizations" }));
    const reconciler = new IssuerReconciler(db, issuerOperations, authorizations, payments, refunds, vault, log.child({ worker: "reconciler" }));
    const deliveryWorker = new DeliveryWorker(db, keys, merchants, config.webhooks, log.child({ worker: "webhooks" }));
    const maintenance = new MaintenanceWorker(
      [
        { name: "expire payments", run: () => payments.expireDue() },
        { name: "forget idempotency keys", run: () => purgeIdempotencyKeys(db) },
        { name: "forget unfinished sign-ins", run: () => payers.purgeExpiredSignIns() },
        { name: "forget unfinished passkey registrations", run: () => passkeys.purgeExpiredChallenges() },
        { name: "settle issuer operations in doubt", run: () => reconciler.runOnce() },
      ],
      config.expiryIntervalMs,
      log.child({ worker: "maintenance" }),
    );
    return {
      config,
      database,
      keys,
      log,
      audit,
      ledger,
      merchants,
      payments,
      refunds,
      webhooks,
      payers,
      devices,
      pins,
      approvals,
      passkeys,
      issuers,
      vault,
      authorizations,
      mandates,
      sharedDetails,
      statementSigner,
      reconciler,
      deliveryWorker,
      maintenance,
      startWorkers() {
        if (!config.workers) return;
        deliveryWorker.start();
        maintenance.start();
      },
      async close() {
        await Promise.all([deliveryWorker.stop(), maintenance.stop()]);
        await database.close();
        await keys.close();
      },
    };
  } catch (error) {
    await opened?.close(); // an HSM session or a refresh timer must not outlive a failed start
    await database.close();
    throw error;
  }
}
