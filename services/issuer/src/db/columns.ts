/**
 * Column builders every context's schema shares. Each context owns its tables in `src/<context>/schema.ts`;
 * drizzle.config.ts reads them all as one issuer schema and one migration history.
 *
 * No foreign keys: drizzle-kit writes them schema-qualified (`"public".…`), which would tie every issuer's schema
 * to `public`. The services keep the references.
 */
import { bigint, timestamp } from "drizzle-orm/pg-core";

export const timestamptz = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });
export const money = (name: string) => bigint(name, { mode: "number" });
