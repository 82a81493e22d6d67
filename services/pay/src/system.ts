/**
 * The pay server's parts wired together: database, key provider, every context's service, and the background
 * workers. The HTTP server (app.ts), the CLI and the tests all start from here, so they run the same code.
 */
import pino, { type Logger } from "pino";
import { migrateDatabase, openDatabase, type Database } from "./db/client.ts";
import { openKeyProvider } from "./keys/index.ts";
import type { KeyProvider } from "./keys/provider.ts";
import { AuditSealer } from "./audit/sealer.ts";
import { AuditService } from "./audit/service.ts";
import { WitnessClient } from "./audit/witness.ts";
import { WitnessPublisher } from "./audit/witness-publisher.ts";
import { inWitnessTurn } from "./audit/store.ts";
import { LedgerService } from "./ledger/service.ts";
import { MerchantService } from "./merchants/service.ts";
import { MerchantUserService } from "./merchant-users/service.ts";
import { StaffConsole } from "./staff/console.ts";
import { StaffService } from "./staff/service.ts";
import { DashboardPasskeys } from "./merchant-users/passkeys.ts";
import { PaymentService } from "./payments/service.ts";
import { RefundService } from "./refunds/service.ts";
import { EndpointHealth } from "./webhooks/endpoint-health.ts";
import { WebhookService } from "./webhooks/service.ts";
import { MessengerClient, messengerClientSecret } from "./payers/messenger-client.ts";
import { startOpaqueServer, type OpaqueServer } from "./pin/opaque-server.ts";
import { PayerService } from "./payers/service.ts";
import { DeviceService } from "./devices/service.ts";
import { PinService } from "./pin/service.ts";
import { ApprovalService } from "./approvals/service.ts";
import { PasskeyService } from "./passkeys/service.ts";
import { DeliveryWorker } from "./webhooks/worker.ts";
import { DEFAULT_RELAY_SETTINGS, EventsRelay } from "./webhooks/events-relay.ts";
import { EventStreamPublisher } from "./webhooks/events-relay-nats.ts";
import { MaintenanceWorker } from "./maintenance.ts";
import { IssuerService } from "./issuers/service.ts";
import type { IssuerConnector } from "./issuers/connector.ts";
import { acquirerSecretOf } from "./issuers/settings.ts";
import { issuerRegistry } from "./issuers/hosts.ts";
import { IssuerOperations } from "./issuer-operations/operations.ts";
import { IssuerReconciler } from "./issuer-operations/reconciler.ts";
import { StatementSigner } from "./issuers/statement-signer.ts";
import { EnrollmentLimiter } from "./vault/enrollment-limits.ts";
import { VaultService } from "./vault/service.ts";
import { RecoveryService } from "./recovery/service.ts";
import { AuthorizationService } from "./authorizations/service.ts";
import { MandateService } from "./mandates/service.ts";
import { SharedDetailsService } from "./shared-details/service.ts";
import { AnnouncementService } from "./announcements/service.ts";
import { MessengerInboxClient } from "./announcements/client.ts";
import { CheckoutService } from "./checkout/service.ts";
import { PushLimiter } from "./checkout/push-limits.ts";
import { ReceiptService } from "./receipts/service.ts";
import { purgeIdempotencyKeys } from "./http/idempotency.ts";
import type { PayConfig } from "./config.ts";

export interface PaySystem {
  config: PayConfig;
  database: Database;
  keys: KeyProvider;
  log: Logger;
  audit: AuditService;
  /** Seals the audit log's pending entries a few ms after this process's appends, and sweeps every second. */
  auditSealer: AuditSealer;
  /** Sends the newest audit head to the witness (a maintenance task); null with MPAY_AUDIT_WITNESS_URL=off. */
  witness: WitnessPublisher | null;
  ledger: LedgerService;
  merchants: MerchantService;
  /** The merchant's dashboard users, their sign-in and sessions (merchant-users/). */
  merchantUsers: MerchantUserService;
  dashboardPasskeys: DashboardPasskeys;
  /** The pay company's staff and their console sessions (staff/), and what the console shows and does. */
  staff: StaffService;
  staffConsole: StaffConsole;
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
  recovery: RecoveryService;
  authorizations: AuthorizationService;
  mandates: MandateService;
  sharedDetails: SharedDetailsService;
  announcements: AnnouncementService;
  checkout: CheckoutService;
  receipts: ReceiptService;
  statementSigner: StatementSigner;
  reconciler: IssuerReconciler;
  deliveryWorker: DeliveryWorker;
  /** Publishes events to NATS JetStream after their commit; null without NATS_URL (events stay in the DB). */
  eventsRelay: EventsRelay | null;
  maintenance: MaintenanceWorker;
  /** Starts the background workers (when config.workers), and the audit sealer's trigger (always). */
  startWorkers(): void;
  close(): Promise<void>;
}

/** JSON logs; `fd` 2 sends them to stderr (the CLI keeps stdout for its answers). */
export function createLogger(level: string, fd: 1 | 2 = 1): Logger {
  return pino(
    {
      level,
      // Belt and braces: these paths never carry secrets in our own log calls, but a future careless one is cut.
      redact: {
        paths: ["req.headers.authorization", "headers.authorization", "*.secret", "*.secretKey", "*.webhookSecret"],
        censor: "[redacted]",
      },
    },
    pino.destination({ fd, sync: fd === 2 }),
  );
}

export interface OpenOptions {
  /** The card network; default the simulator's HTTP connector at `config.issuers.url`. */
  issuerConnector?: IssuerConnector;
  /** The CLI: work through a running server that holds the PGlite folder, instead of being refused. */
  joinRunning?: boolean;
}

export async function openPaySystem(
  config: PayConfig,
  log: Logger = createLogger(config.logLevel),
  options: OpenOptions = {},
): Promise<PaySystem> {
  const database = await openDatabase({
    url: config.databaseUrl,
    dataDir: config.embeddedDatabaseDir,
    poolSize: config.dbPoolSize,
    owner: options.joinRunning ? "the mpay CLI" : "the pay server",
    joinRunning: options.joinRunning,
  });
  let opened: KeyProvider | undefined;
  let opaqueServer: OpaqueServer | undefined;
  try {
    await migrateDatabase(database);
    const keys = (opened = await openKeyProvider({
      kind: config.keyProvider,
      dataDir: config.dataDir,
      db: database.db,
      pkcs11: config.pkcs11,
      log: (m) => log.warn(m),
    }));
    const db = database.db;
    const audit = new AuditService(db, keys, config.clock);
    const ledger = new LedgerService();
    const merchants = new MerchantService(db, keys, audit);
    await merchants.assertProviderFitsKeys();
    const merchantUsers = new MerchantUserService(db, keys, audit, merchants, config.clock);
    merchants.useDashboardSessions(merchantUsers);
    const dashboardPasskeys = new DashboardPasskeys(db, audit, merchantUsers, config.passkeys, config.clock);
    const payments = new PaymentService(db, ledger, config, audit);
    const refunds = new RefundService(db, payments, ledger, audit);
    const endpointHealth = new EndpointHealth(audit, config.clock);
    const webhooks = new WebhookService(db, keys, audit, merchants, endpointHealth, config.webhooks.timeoutMs);
    const payers = new PayerService(
      db,
      new MessengerClient(config.messenger, `${config.publicUrl}/v1/payer/auth/callback`),
      config.payerSessionTtlSeconds,
      config.clock,
    );
    const inbox = new MessengerInboxClient({
      baseUrl: config.messenger.issuer,
      clientId: config.messenger.clientId,
      clientSecret: () => messengerClientSecret(config.messenger),
      timeoutMs: config.announcements.timeoutMs,
    });
    const announcements = new AnnouncementService(
      db,
      payers,
      inbox,
      config.announcements,
      config.clock,
      log.child({ context: "announcements" }),
    );
    const pushLimiter = new PushLimiter(db, config.checkoutPushLimits, config.approvalTtlSeconds, config.clock);
    const checkout = new CheckoutService(db, payments, merchants, payers, announcements, pushLimiter, config.clock);
    const devices = new DeviceService(db, audit, config.deviceWaitingPeriodSeconds, config.clock, announcements);
    // OPAQUE's login steps on worker threads, off the event loop (issue 11).
    opaqueServer = await startOpaqueServer({
      onFallback: (error) =>
        log.warn(
          { err: error },
          "OPAQUE worker pool error (if the pool could not start, OPAQUE runs on the event loop)",
        ),
    });
    const pins = new PinService(
      db,
      keys,
      devices,
      audit,
      config.deviceWaitingPeriodSeconds,
      config.clock,
      announcements,
      opaqueServer,
    );
    devices.usePinProofs(pins);
    const connector = options.issuerConnector ?? issuerRegistry(config.issuers);
    const issuerLog = log.child({ context: "issuers" });
    const issuers = new IssuerService(connector, {
      clock: config.clock,
      ...(config.issuers.breaker ? { breaker: config.issuers.breaker } : {}),
      // The issuer id and the state only: never a URL's credentials or a secret.
      onBreakerChange: (issuerId, state) =>
        issuerLog[state === "closed" ? "info" : "warn"]({ issuerId, breaker: state }, "issuer circuit breaker"),
    });
    const issuerOperations = new IssuerOperations(issuers);
    const staff = new StaffService(db, keys, audit, config.clock);
    const staffConsole = new StaffConsole({ db, keys, audit, merchants, webhooks, issuerOperations });
    payments.useIssuerOperations(issuerOperations);
    refunds.useIssuerOperations(issuerOperations);
    const enrollmentLimiter = new EnrollmentLimiter(db, config.enrollmentLimits, config.clock);
    const vault = new VaultService(db, keys, devices, issuers, audit, config.clock, announcements, enrollmentLimiter);
    const recovery = new RecoveryService(db, devices, pins, vault, audit, announcements);
    devices.onRevocation({
      inTransaction: (tx, device) => vault.forgetDevice(tx, device),
      afterCommit: async (device) => void (await vault.sendUnbinds(device.id)),
    });
    const approvals = new ApprovalService(db, payments, merchants, devices, pins, vault, config.clock, issuers);
    const receipts = new ReceiptService(db, payments, approvals, refunds, vault, merchants, issuers, announcements);
    refunds.onRefunded((tx, payment, refund) => receipts.announceRefund(tx, payment, refund));
    const passkeys = new PasskeyService(db, devices, audit, config.passkeys, pins, config.clock);
    approvals.usePasskeys(passkeys);
    const statementSigner = new StatementSigner(db, keys, config.publicUrl, config.clock);
    const mandates = new MandateService(db, keys, issuers, payments, audit);
    const sharedDetails = new SharedDetailsService(keys);
    const authorizations = new AuthorizationService(
      db,
      payments,
      approvals,
      issuers,
      issuerOperations,
      statementSigner,
      mandates,
      sharedDetails,
      log.child({ context: "authorizations" }),
      config.clock,
    );
    authorizations.onApproved((tx, payment, approval) => receipts.announcePaid(tx, payment, approval));
    const reconciler = new IssuerReconciler(
      db,
      issuerOperations,
      authorizations,
      payments,
      refunds,
      vault,
      log.child({ worker: "reconciler" }),
    );
    const witnessUrl = config.auditWitness.url;
    // The witness is an issuer, reached on the acquirer link with its secret; audit/ knows only a URL and a bearer.
    const witness = witnessUrl
      ? new WitnessPublisher(
          audit,
          keys,
          new WitnessClient({
            url: witnessUrl,
            bearer: () => acquirerSecretOf(config.issuers),
            timeoutMs: config.issuers.timeoutMs,
          }),
          // Several processes share PostgreSQL: one sends at a time. PGlite has one process.
          database.kind === "postgres" ? (work) => inWitnessTurn(db, work) : undefined,
        )
      : null;
    const auditSealer = new AuditSealer(audit, log.child({ worker: "audit-sealer" }));
    const deliveryWorker = new DeliveryWorker(
      db,
      keys,
      merchants,
      config.webhooks,
      log.child({ worker: "webhooks" }),
      endpointHealth,
    );
    const eventsRelay = config.eventStream
      ? new EventsRelay(
          db,
          new EventStreamPublisher(config.eventStream),
          DEFAULT_RELAY_SETTINGS,
          log.child({ worker: "events-relay" }),
        )
      : null;
    const maintenance = new MaintenanceWorker(
      [
        { name: "expire payments", run: () => payments.expireDue() },
        { name: "forget idempotency keys", run: () => purgeIdempotencyKeys(db) },
        { name: "forget unfinished sign-ins", run: () => payers.purgeExpiredSignIns() },
        { name: "forget unfinished passkey registrations", run: () => passkeys.purgeExpiredChallenges() },
        { name: "forget ended dashboard sign-ins and sessions", run: () => merchantUsers.purgeExpired() },
        { name: "forget ended console sign-ins and sessions", run: () => staff.purgeExpired() },
        { name: "settle issuer operations in doubt", run: () => reconciler.runOnce() },
        { name: "revoke the devices a recovery that took effect replaces", run: () => devices.applyDueRevocations() },
        { name: "forget expired statement nonces", run: () => devices.purgeStatementNonces() },
        { name: "deliver announcements", run: () => announcements.deliverDue() },
        { name: "forget old enrollment tries", run: () => enrollmentLimiter.sweep() },
        { name: "forget old checkout pushes", run: () => pushLimiter.sweep() },
        ...(witness ? [{ name: "send the newest audit head to the witness", run: () => witness.publishOnce() }] : []),
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
      auditSealer,
      witness,
      ledger,
      merchants,
      merchantUsers,
      dashboardPasskeys,
      staff,
      staffConsole,
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
      recovery,
      authorizations,
      mandates,
      sharedDetails,
      announcements,
      checkout,
      receipts,
      statementSigner,
      reconciler,
      deliveryWorker,
      eventsRelay,
      maintenance,
      startWorkers() {
        // A server seals its own appends even with the workers off; the sweep for others' leftovers is a worker.
        auditSealer.start({ sweep: config.workers });
        if (!config.workers) return;
        deliveryWorker.start();
        eventsRelay?.start();
        maintenance.start();
      },
      async close() {
        await Promise.all([deliveryWorker.stop(), eventsRelay?.stop(), maintenance.stop(), announcements.settle()]);
        await auditSealer.stop(); // after the workers, whose last work may append; before the keys that sign
        // Keys first: a shamir process removes its registration (vault_processes) through the database.
        await keys.close();
        await opaqueServer?.close();
        await database.close();
      },
    };
  } catch (error) {
    await opaqueServer?.close();
    await opened?.close(); // an HSM session or a refresh timer must not outlive a failed start
    await database.close();
    throw error;
  }
}
