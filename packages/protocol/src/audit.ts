/**
 * The pay server's signed audit heads and the witness that keeps them (DESIGN.md "Conventions for the merchant
 * API", audit bullet; issue 7), modelled on Certificate Transparency's signed tree heads (RFC 6962 §3.5) and
 * witnesses. Defined once, here: the pay server signs and exports heads, the issuer host's witness checks and keeps
 * them, and `mpay audit verify` reads both.
 *
 * A signed head is a compact JWS, ES256, protected header `{ alg, kid, typ: "mpay-audit-head+jws" }` (`kid` = the
 * RFC 7638 thumbprint of the pay server's audit key), payload the RFC 8785 canonical JSON of `AuditHeadPayload`:
 * the log has `size` entries and the newest one's chain hash is `hash` (64 zeros for an empty log).
 */
import { z } from "zod";
import { ecPublicJwkSchema } from "./issuer.ts";

export const AUDIT_HEAD_TYP = "mpay-audit-head+jws";

export const auditHashSchema = z.string().regex(/^[0-9a-f]{64}$/);

export const auditHeadPayloadSchema = z.strictObject({
  /** Which chain of the log (the pay server keeps one, `main`). */
  chain: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/),
  /** How many entries the log has: entries 1 … size. */
  size: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  /** The chain hash of entry `size`. */
  hash: auditHashSchema,
  /** When it was signed (ISO 8601, UTC, milliseconds). */
  timestamp: z.iso.datetime({ precision: 3 }),
});
export type AuditHeadPayload = z.infer<typeof auditHeadPayloadSchema>;

/** The audit key as the pay server publishes it (`GET /.well-known/mpay-audit-key`, `mpay audit key --json`). */
export const auditPublicJwkSchema = ecPublicJwkSchema.extend({
  kid: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  alg: z.literal("ES256").optional(),
  use: z.literal("sig").optional(),
});
export type AuditPublicJwk = z.infer<typeof auditPublicJwkSchema>;

/** A JWK Set of audit keys; a file with one bare JWK is accepted where a key is read from a file. */
export const auditKeySetSchema = z.object({ keys: z.array(auditPublicJwkSchema).min(1).max(16) });

/** A compact JWS of a head: three base64url parts; a head is a few hundred characters. */
export const signedAuditHeadSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/)
  .max(2048);

/** `POST /issuers/{issuerId}/audit-heads` (acquirer link): the newest signed head, and the key to check it with. */
export const witnessSubmissionSchema = z.strictObject({ head: signedAuditHeadSchema, key: auditPublicJwkSchema });

/** The witness's answer to a submission: the newest size it now holds. */
export const witnessReceiptSchema = z.object({
  accepted: z.literal(true),
  size: z.number().int().nonnegative(),
  newHead: z.boolean(),
});
export type WitnessReceipt = z.infer<typeof witnessReceiptSchema>;

/** `GET /issuers/{issuerId}/audit-heads` (public), and the heads file `mpay audit verify --witness` reads. */
export const witnessedHeadsSchema = z.object({
  /** The key the witness pinned with the first head it accepted; null before any. */
  key: auditPublicJwkSchema.nullable(),
  /** Every head it accepted, by size. */
  heads: z.array(z.object({ head: signedAuditHeadSchema, receivedAt: z.string() })),
});
export type WitnessedHeads = z.infer<typeof witnessedHeadsSchema>;
