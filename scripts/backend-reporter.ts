/**
 * Prints how many tests ran on each database backend, and the plain closing line `N passed, N failed`.
 * In CI (CI=true with DATABASE_URL set) a run in which no test ran on PostgreSQL fails: that would mean the
 * PostgreSQL half of the suite silently disappeared.
 */
import type { Reporter, TestModule } from "vitest/node";

export default class BackendReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const onBackend = { postgres: 0, pglite: 0 };
    for (const module of modules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === "passed") passed++;
        else if (state === "failed") failed++;
        else skipped++;
        if (state !== "passed") continue;
        if (test.fullName.includes("[postgres]")) onBackend.postgres++;
        if (test.fullName.includes("[pglite]")) onBackend.pglite++;
      }
    }
    process.stdout.write(
      `\nTests on PostgreSQL: ${onBackend.postgres} passed · on PGlite: ${onBackend.pglite} passed\n`,
    );
    if (process.env["CI"] && process.env["DATABASE_URL"] && onBackend.postgres === 0) {
      process.stdout.write("CI expects tests on PostgreSQL, but none ran.\n");
      process.exitCode = 1;
    }
    process.stdout.write(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}\n`);
  }
}
