/**
 * What the operator console shows and does (issue 10, deliverable 4), each through the owning context's service:
 * merchants (list; create and suspend: admins only), the vault's sealed state and unseal progress, key versions,
 * the reconciler's queue of issuer operations in doubt, the webhook backlog, and the audit log's verification.
 * Actions are audited as the staff member (`staff:stf_…`).
 */
import type { AuditService } from "../audit/service.ts";
import type { Db } from "../db/client.ts";
import { ApiError } from "../http/errors.ts";
import type { IssuerOperations } from "../issuer-operations/operations.ts";
import type { KeyProvider } from "../keys/provider.ts";
import type { MerchantService } from "../merchants/service.ts";
import type { WebhookService } from "../webhooks/service.ts";
import type { StaffAuth } from "./service.ts";

export interface ConsoleMerchant {
  id: string;
  name: string;
  displayName: string;
  allowedOrigins: string[];
  suspended: boolean;
  suspendedAt: string | null;
  createdAt: string;
}

function merchantView(row: {
  id: string;
  name: string;
  displayName: string;
  allowedOrigins: string[];
  suspendedAt: Date | null;
  createdAt: Date;
}): ConsoleMerchant {
  return {
    id: row.id,
    name: row.name,
    displayName: row.displayName,
    allowedOrigins: row.allowedOrigins,
    suspended: row.suspendedAt !== null,
    suspendedAt: row.suspendedAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
  };
}

/** Admins only: support staff read. */
export function requireAdmin(auth: StaffAuth): void {
  if (auth.role !== "admin")
    throw new ApiError("permission_denied", "This needs the admin role; support staff can only read.");
}

export class StaffConsole {
  constructor(
    private readonly deps: {
      db: Db;
      keys: KeyProvider;
      audit: AuditService;
      merchants: MerchantService;
      webhooks: WebhookService;
      issuerOperations: IssuerOperations;
    },
  ) {}

  async merchants(): Promise<ConsoleMerchant[]> {
    return (await this.deps.merchants.list()).map(merchantView);
  }

  /** A test-mode merchant, as `mpay merchant create` makes it; its keys are answered here once. */
  async createMerchant(
    auth: StaffAuth,
    input: { name: string; displayName?: string; allowedOrigins?: string[] },
  ): Promise<{ merchant: ConsoleMerchant; mode: "test" | "live"; secretKey: string; publishableKey: string }> {
    requireAdmin(auth);
    const made = await this.deps.merchants.create({ ...input, mode: "test", actor: auth.actor });
    return {
      merchant: merchantView(made.merchant),
      mode: made.mode,
      secretKey: made.secretKey.peek(),
      publishableKey: made.publishableKey,
    };
  }

  async setSuspended(auth: StaffAuth, merchantId: string, suspended: boolean): Promise<ConsoleMerchant> {
    requireAdmin(auth);
    return merchantView(await this.deps.merchants.setSuspended(merchantId, suspended, auth.actor));
  }

  /** The key provider's state as `GET /v1/vault/status` answers it: sealed or not, and the unseal progress. */
  vault() {
    return this.deps.keys.status();
  }

  /** Key versions: the current one (new seals use it) and those still readable (`mpay vault rotate` adds one). */
  async keyVersions() {
    const status = await this.deps.keys.status();
    return {
      kind: status.kind,
      currentKeyVersion: status.currentKeyVersion,
      keyVersions: status.keyVersions,
      custodyGeneration: status.custody?.generation ?? null,
      rekeyPending: status.custody?.rekeyPending ?? false,
    };
  }

  /** Issuer operations in doubt, which the reconciler settles: how many and the oldest. */
  async reconcilerQueue() {
    const queue = await this.deps.issuerOperations.queue(this.deps.db, 20);
    return {
      count: queue.count,
      oldest: queue.oldest.map((op) => ({
        id: op.id,
        kind: op.kind,
        paymentId: op.paymentId,
        merchantId: op.merchantId,
        attempts: op.attempts,
        lastError: op.lastError,
        createdAt: op.createdAt.toISOString(),
        nextAttemptAt: op.nextAttemptAt.toISOString(),
      })),
    };
  }

  async webhookBacklog() {
    const rows = await this.deps.webhooks.backlog();
    const of = (status: "pending" | "failed") => {
      const row = rows.find((r) => r.status === status);
      return { count: row?.count ?? 0, oldest: row?.oldest?.toISOString() ?? null };
    };
    return { pending: of("pending"), failed: of("failed") };
  }

  /** `mpay audit verify` against the stored log (audited as the staff member who asked). */
  async auditVerify(auth: StaffAuth) {
    const report = await this.deps.audit.verify();
    await this.deps.audit.record({
      actor: auth.actor,
      action: "staff.audit_verified",
      data: { ok: report.ok, entries: report.entries },
    });
    return {
      ok: report.ok,
      entries: report.entries,
      heads: report.heads,
      problems: report.problems.slice(0, 20).map((p) => ({ seq: p.seq, kind: p.kind, message: p.message })),
    };
  }
}
