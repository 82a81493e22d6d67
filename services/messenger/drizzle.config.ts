import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "postgresql",
  // Each context owns its tables beside its code (as the pay server does); together they are one schema and one
  // migration history.
  schema: "./src/*/schema.ts",
  out: "./migrations",
});
