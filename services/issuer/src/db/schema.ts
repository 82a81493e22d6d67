/**
 * The typed client's table list: empty on purpose. Each context owns its tables in `src/<context>/schema.ts`
 * (drizzle.config.ts reads them all as one issuer schema and one migration history; column builders they share are
 * in columns.ts), and stores name their tables in every query; the issuer uses no relational query API
 * (`db.query.*`), so the client needs no table list, and the database layer imports no context.
 */
export {};
