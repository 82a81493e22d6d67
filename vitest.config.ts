import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: [
      "packages/*/src/**/*.test.ts",
      "services/*/src/**/*.test.ts",
      "apps/*/server/**/*.test.ts",
      "apps/*/src/**/*.test.ts",
      "e2e/**/*.test.ts",
      "bench/**/*.test.ts",
    ],
    // Each test file starts its own PGlite (WASM PostgreSQL) or database: two at a time suits 2-core machines.
    pool: "forks",
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ["default", "./scripts/backend-reporter.ts"],
    // A new PGlite database starts from one fresh cluster made once per run instead of its own `initdb`.
    globalSetup: ["./scripts/pglite-template.global.ts"],
    setupFiles: ["./scripts/pglite-template.setup.ts"],
  },
});
