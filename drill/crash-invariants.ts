/**
 * What the crash drill proves at the end, after the reconciler has settled what the crashes left in doubt and a
 * clean pay server has delivered what was queued: no acknowledged payment lost, none authorized or captured twice,
 * the issuer's books equal the pay server's, the ledger balanced, the audit chain intact, every event delivered.
 */
import { sql } from "drizzle-orm";
import type { AuthorizationRecord } from "@mpay/protocol";
import { queryRows } from "../services/pay/src/db/client.ts";
import type { PaySystem } from "../services/pay/src/system.ts";
import type { SimulatorConnector } from "../services/pay/src/issuers/simulator/connector.ts";
import type { PaymentClaims } from "./crash-load.ts";
import { ISSUER_ID } from "./crash-system.ts";

export interface Invariant {
  name: string;
  ok: boolean;
  /** What was checked, or the first few violations. */
  detail: string;
}

interface PaymentRow {
  id: string;
  status: string;
  amount: number;
  captured: number;
  refunded: number;
  approvals: number;
  refundTotal: number;
}

/** Settles every issuer operation in doubt, an hour later (past every signed terms' deadline); what stays pending. */
export async function settleInDoubt(system: PaySystem, now: Date): Promise<string[]> {
  const pending = async () =>
    Number(
      (
        await queryRows<{ n: number }>(
          system.database.db,
          sql`select count(*)::int as n from issuer_operations where status = 'pending'`,
        )
      )[0]?.n ?? 0,
    );
  // A pass that fails for one (the issuer slow to answer) postpones it within the hour: pass again.
  for (let pass = 0; pass < 10 && (await pending()) > 0; pass++) await system.reconciler.runOnce(500, now);
  const rows = await queryRows<{ kind: string; error: string | null; status: string; attempts: number }>(
    system.database.db,
    sql`select o.kind, o.last_error as error, p.status, o.attempts::int as attempts
        from issuer_operations o join payments p on p.id = o.payment_id where o.status = 'pending'`,
  );
  return rows.map((r) => `${r.kind} of a ${r.status} payment (${r.attempts} attempts, ${r.error ?? "no error"})`);
}

/**
 * A delivery claimed by a process that then died stays leased (timeout + 20 s) before another process may send
 * it; the drill's processes are dead, so it moves those leases to their end instead of waiting them out.
 */
export async function expireDeadLeases(system: PaySystem): Promise<void> {
  await system.database.db.execute(
    sql`update webhook_deliveries set next_attempt_at = now() where status = 'pending' and next_attempt_at > now()`,
  );
}

/** The ids of the events queued for the drill's endpoint. */
export async function queuedEvents(system: PaySystem, endpointId: string): Promise<string[]> {
  const rows = await queryRows<{ id: string }>(
    system.database.db,
    sql`select event_id as id from webhook_deliveries where endpoint_id = ${endpointId}`,
  );
  return rows.map((r) => r.id);
}

function invariant(name: string, problems: string[], checked: string): Invariant {
  const shown = problems.slice(0, 5).join("; ");
  return {
    name,
    ok: problems.length === 0,
    detail: problems.length === 0 ? checked : `${problems.length} violation(s): ${shown}`,
  };
}

/** Reads everything with the server stopped and compares it with the acknowledgments and the issuer's books. */
export async function checkInvariants(input: {
  system: PaySystem;
  claims: Map<string, PaymentClaims>;
  issuerLink: SimulatorConnector;
  delivered: Set<string>;
  queued: string[];
}): Promise<Invariant[]> {
  const { system, claims } = input;
  const db = system.database.db;
  const rows = await queryRows<PaymentRow>(
    db,
    sql`select p.id, p.status, p.amount::int as amount, p.amount_captured::int as captured,
               p.amount_refunded::int as refunded,
               (select count(*)::int from payment_approvals a where a.payment_id = p.id) as approvals,
               (select coalesce(sum(r.amount), 0)::int from refunds r where r.payment_id = p.id) as "refundTotal"
        from payments p`,
  );
  const byId = new Map(rows.map((r) => [r.id, r]));

  const lost: string[] = [];
  for (const [id, claim] of claims) {
    const row = byId.get(id);
    const has = (what: string) => claim.acknowledged.has(what as never);
    if (!row) {
      lost.push(`${id} was acknowledged and does not exist`);
      continue;
    }
    if (has("authorized") && !["authorized", "captured", "canceled", "expired"].includes(row.status))
      lost.push(`${id} was acknowledged authorized and is ${row.status}`);
    if (has("captured") && (row.status !== "captured" || row.captured !== claim.amount))
      lost.push(`${id} was acknowledged captured and is ${row.status} with ${row.captured} captured`);
    if (has("refunded") && row.refunded !== row.captured)
      lost.push(`${id} was acknowledged refunded and has ${row.refunded} of ${row.captured} refunded`);
    if (has("canceled") && row.status !== "canceled") lost.push(`${id} was acknowledged canceled and is ${row.status}`);
  }

  const twice: string[] = [];
  const books: string[] = [];
  const records = new Map<string, AuthorizationRecord | null>();
  const ids = rows.map((r) => r.id);
  for (let i = 0; i < ids.length; i += 8)
    await Promise.all(
      ids.slice(i, i + 8).map(async (id) => records.set(id, await input.issuerLink.inquire(ISSUER_ID, id))),
    );
  for (const row of rows) {
    const record = records.get(row.id) ?? null;
    if (row.approvals > 1) twice.push(`${row.id} has ${row.approvals} approvals`);
    if (row.captured > row.amount) twice.push(`${row.id} captured ${row.captured} of ${row.amount}`);
    if (row.refunded !== row.refundTotal || row.refunded > row.captured)
      twice.push(`${row.id} refunded ${row.refunded} (refund rows ${row.refundTotal}) of ${row.captured} captured`);
    if (record && (record.amountCaptured > record.amount || record.amountRefunded > record.amountCaptured))
      twice.push(
        `${row.id} at the issuer: ${record.amountCaptured} captured, ${record.amountRefunded} refunded of ${record.amount}`,
      );
    const issuerHolds = record?.status === "approved" || record?.status === "captured";
    const expected = row.status === "authorized" ? "approved" : row.status === "captured" ? "captured" : null;
    const agree =
      expected === null
        ? !issuerHolds
        : record?.status === expected &&
          record.amount === row.amount &&
          record.amountCaptured === row.captured &&
          record.amountRefunded === row.refunded;
    if (!agree)
      books.push(
        `${row.id}: pay ${row.status} ${row.captured}/${row.refunded}, issuer ${record ? `${record.status} ${record.amountCaptured}/${record.amountRefunded}` : "none"}`,
      );
  }

  const ledger = await system.ledger.verify(db);
  const audit = await system.audit.verify();
  const undelivered = input.queued.filter((id) => !input.delivered.has(id));
  return [
    invariant("no acknowledged payment lost", lost, `${claims.size} payments acknowledged, every acknowledgment holds`),
    invariant(
      "none authorized or captured twice",
      twice,
      `${rows.length} payments, at most one approval and capture each`,
    ),
    invariant(
      "issuer books equal the pay server's",
      books,
      `${rows.length} payments agree (status, captured, refunded)`,
    ),
    invariant(
      "ledger balanced (ledger verify)",
      ledger.problems.map((p) => JSON.stringify(p)),
      `${ledger.transactions} transactions, ${ledger.entries} entries`,
    ),
    invariant(
      "audit chain intact (audit verify)",
      audit.problems.map((p) => `${p.kind} at ${p.seq}`),
      `${audit.entries} entries, ${audit.heads} signed heads`,
    ),
    invariant(
      "every event delivered at least once",
      undelivered.map((id) => `${id} never reached the endpoint`),
      `${input.queued.length} events, all received`,
    ),
  ];
}
