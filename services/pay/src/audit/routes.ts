/**
 * `GET /.well-known/mpay-audit-key`: the public key that signs the audit log's heads, as a JWK Set with its kid
 * (the RFC 7638 thumbprint), for anyone who checks an export or a witness's heads. No credential: it is public by
 * design, as a Certificate Transparency log's key is. Save it once and compare later fetches with it; a key that
 * changed would mean a new log.
 */
import type { FastifyInstance } from "fastify";
import type { AuditService } from "./service.ts";

export function auditRoutes(app: FastifyInstance, audit: AuditService): void {
  app.get("/.well-known/mpay-audit-key", { schema: { hide: true } }, async (_request, reply) =>
    reply.header("cache-control", "public, max-age=300").send({ keys: [await audit.publicKey()] }),
  );
}
