import { defineConfig } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * The browser tests (e2e/web-* and the merchant SDK's browser-button test, a minute or two each) start first, then the rest in vitest's own order (longest
 * last time, or largest file on a fresh clone as in CI): started late, one of them would keep a worker busy for
 * minutes after the other one ran out of files.
 */
class SlowestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const browser = (file: TestSpecification) =>
      /[\\/]e2e[\\/]web-[^\\/]*\.test\.ts$|[\\/]browser-button\.test\.ts$/.test(file.moduleId);
    return [...sorted.filter(browser), ...sorted.filter((file) => !browser(file))];
  }
}

export default defineConfig({
  test: {
    include: [
      "packages/*/src/**/*.test.ts",
      "services/*/src/**/*.test.ts",
      "apps/*/server/**/*.test.ts",
      "apps/*/src/**/*.test.ts",
      "examples/*/src/**/*.test.ts",
      "e2e/**/*.test.ts",
      "bench/**/*.test.ts",
      "drill/**/*.test.ts",
    ],
    // Each test file starts its own PGlite (WASM PostgreSQL) or database: two at a time suits 2-core machines.
    pool: "forks",
    maxWorkers: 2,
    sequence: { sequencer: SlowestFirst },
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ["default", "./scripts/backend-reporter.ts"],
    // A new PGlite database starts from one fresh cluster made once per run instead of its own `initdb`.
    globalSetup: ["./scripts/pglite-template.global.ts"],
    setupFiles: ["./scripts/pglite-template.setup.ts"],
  },
});
