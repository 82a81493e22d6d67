/**
 * The crash drill, short (issue 12): every fault point armed once, on PostgreSQL when DATABASE_URL is set (its own
 * throwaway databases) and PGlite otherwise. Each point must actually have killed the server — a drill whose
 * kills never land proves nothing — and the invariants must hold afterwards.
 */
import { describe, expect, it } from "vitest";
import { systemBackends } from "../services/pay/src/testing/databases.ts";
import { FAULT_POINTS } from "../services/pay/src/fault-points.ts";
import { crashReport, parseCrashOptions, runCrashDrill } from "./crash.ts";

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
    // Among them the issuer's books equal the pay server's: a capture, void or refund killed after the issuer
    // answered is recorded when the merchant's retry meets the issuer's memory of it.
    const broken = run.invariants.filter((i) => !i.ok).map((i) => `${i.name}: ${i.detail}`);
    expect(broken, report).toEqual([]);
    expect(run.invariants.map((i) => i.name)).toContain("issuer books equal the pay server's");
  }, 900_000);
});
