/**
 * The crash drill, short (issue 12): every fault point armed once, on PostgreSQL when DATABASE_URL is set (its own
 * throwaway databases) and PGlite otherwise, with the issuer host killed at random and after its commit in the
 * same lives, and on PostgreSQL the servers' connections ended under them. Each point and each kind must actually
 * have landed — a drill whose kills never land proves nothing — and the invariants must hold afterwards.
 */
import { describe, expect, it } from "vitest";
import { systemBackends } from "../services/pay/src/testing/databases.ts";
import { FAULT_POINTS } from "../services/pay/src/fault-points.ts";
import { crashReport, missedKinds, parseCrashOptions, runCrashDrill } from "./crash.ts";

describe.each(systemBackends())("the crash drill [%s]", (backend) => {
  it("kills the pay server at every fault point under load, and nothing acknowledged is lost or doubled", async () => {
    const options = parseCrashOptions(
      // One random issuer kill (and its after-commit kill) is enough here: each costs two issuer starts.
      ["--crashes", String(FAULT_POINTS.length), "--life-seconds", "30", "--issuer-every", "10"],
      backend === "postgres" ? process.env : {},
    );
    expect(options.points).toHaveLength(FAULT_POINTS.length);
    const run = await runCrashDrill(options, () => {});
    const report = crashReport(run);
    const missed = [...run.points].filter(([, t]) => t.hit === 0).map(([point]) => point);
    expect(missed, report).toEqual([]);
    expect(missedKinds(run), report).toEqual([]);
    expect(run.crashes.issuerRandom, report).toBeGreaterThan(0);
    expect(run.crashes.issuerAfterCommit, report).toBeGreaterThan(0);
    if (backend === "postgres") expect(run.crashes.connections, report).toBeGreaterThan(0);
    else expect(run.crashes.connections, report).toBeNull();
    expect(run.payments, report).toBeGreaterThan(0);
    // Among them the issuer's books equal the pay server's: a capture, void or refund killed after the issuer
    // answered is recorded when the merchant's retry meets the issuer's memory of it.
    const broken = run.invariants.filter((i) => !i.ok).map((i) => `${i.name}: ${i.detail}`);
    expect(broken, report).toEqual([]);
    expect(run.invariants.map((i) => i.name)).toContain("issuer books equal the pay server's");
    // A lost PostgreSQL connection once killed the whole server (an 'error' event nobody listened to).
    expect(run.invariants.map((i) => i.name)).toContain("the pay server died only where the drill killed it");
    // The merchant's capture, cancel or refund cut off after its commit was retried and got its stored answer.
    expect(run.invariants.map((i) => i.name)).toContain(
      "a retry after an answer lost past its commit gets the stored answer",
    );
  }, 900_000);
});
