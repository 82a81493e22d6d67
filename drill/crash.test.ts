/**
 * The crash drill, short (issue 12): every fault point armed once, on PostgreSQL when DATABASE_URL is set (its own
 * throwaway databases) and PGlite otherwise. Each point must actually have killed the server — a drill whose
 * kills never land proves nothing — and the invariants must hold afterwards.
 */
import { describe, expect, it } from "vitest";
import { systemBackends } from "../services/pay/src/testing/databases.ts";
import { FAULT_POINTS, type FaultPoint } from "../services/pay/src/fault-points.ts";
import { crashReport, parseCrashOptions, runCrashDrill } from "./crash.ts";

/**
 * Known gap the drill found (reported with issue 12): a capture, void or refund runs at the issuer inside the
 * merchant's transaction, and its `pending` operation row commits with that transaction. A crash after the issuer
 * answered and before the commit rolls the row back too, so the reconciler never learns of it; the merchant's retry
 * (same Idempotency-Key, whose reservation rolled back as well) is refused by the issuer, and the issuer stays one
 * step ahead of the pay server. When the gap is closed the books agree and the assertion below must become strict.
 */
const ISSUER_AHEAD_AFTER: readonly FaultPoint[] = ["capture.after-issuer", "void.after-issuer", "refund.after-issuer"];
const BOOKS = "issuer books equal the pay server's";

describe.each(systemBackends())("the crash drill [%s]", (backend) => {
  it("kills the pay server at every fault point under load, and nothing acknowledged is lost or doubled", async () => {
    const options = parseCrashOptions(
      ["--crashes", String(FAULT_POINTS.length), "--life-seconds", "20"],
      backend === "postgres" ? process.env : {},
    );
    expect(options.points).toHaveLength(FAULT_POINTS.length);
    const run = await runCrashDrill(options, () => {});
    const report = crashReport(run);
    const missed = [...run.points].filter(([, t]) => t.hit === 0).map(([point]) => point);
    expect(missed, report).toEqual([]);
    expect(run.payments, report).toBeGreaterThan(0);
    const broken = run.invariants.filter((i) => !i.ok && i.name !== BOOKS).map((i) => `${i.name}: ${i.detail}`);
    expect(broken, report).toEqual([]);
    // Each of those points leaves at least one payment with the issuer ahead (a kill elsewhere can land in the same
    // window of a concurrent request too); every difference shown is of that one kind.
    const books = run.invariants.find((i) => i.name === BOOKS)?.detail ?? "";
    expect(Number(/^(\d+) violation/.exec(books)?.[1] ?? 0), report).toBeGreaterThanOrEqual(ISSUER_AHEAD_AFTER.length);
    for (const difference of books.replace(/^.*?: /, "").split("; "))
      expect(difference, report).toMatch(/: pay (authorized|captured) \d+\/\d+, issuer (captured|voided) \d+\/\d+$/);
  }, 900_000);
});
