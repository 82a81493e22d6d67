/**
 * The vault's operator routes, outside the merchant API's authentication: `POST /v1/vault/unseal` takes one
 * custodian share, `GET /v1/vault/status` says whether this process is sealed. Like HashiCorp Vault's unseal,
 * no login is needed, because the shares are the credential; the route is rate-limited per address, since a
 * stranger posting junk can at most make the custodians start again (a wrong share discards the collected ones).
 * The limits count on the API limits' counters (http/rate-limits.ts): with REDIS_URL, across every process.
 *
 * A share is in the request body only: bodies are never logged (a request line holds the method and the path,
 * service-kit's requestForLog), and no answer or error quotes it.
 */
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { AuditService } from "../audit/service.ts";
import type { ApiLimits } from "../http/rate-limits.ts";
import { errorResponse } from "../http/route-kit.ts";
import { KeyProviderError } from "../keys/provider.ts";
import type { KeyProvider } from "../keys/provider.ts";

/** Enough for M custodians to retry a few typos each; far too few to matter to an attacker. */
export const UNSEAL_REQUESTS_PER_MINUTE = 20;
const STATUS_REQUESTS_PER_MINUTE = 120;

const progressSchema = z.object({ sealed: z.boolean(), sharesReceived: z.number().int(), threshold: z.number().int() });
const statusSchema = z.object({
  kind: z.enum(["dev", "pkcs11", "shamir"]),
  initialized: z.boolean(),
  sealed: z.boolean(),
  currentKeyVersion: z.number().int().nullable(),
  keyVersions: z.array(z.number().int()),
  custody: z
    .object({
      threshold: z.number().int(),
      shares: z.number().int(),
      sharesReceived: z.number().int(),
      generation: z.number().int(),
      rekeyPending: z.boolean(),
    })
    .optional(),
});
const errors = { 400: errorResponse, 409: errorResponse, 429: errorResponse, 503: errorResponse };

export async function vaultRoutes(
  app: FastifyInstance,
  keys: KeyProvider,
  audit: AuditService,
  limits: ApiLimits,
): Promise<void> {
  // Each route its own limit (its config.rateLimit), per address.
  await limits.register(app, "vault", undefined, {
    global: false,
    message: "Too many vault requests from this address; wait a minute.",
  });
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post(
    "/v1/vault/unseal",
    {
      config: { rateLimit: { max: UNSEAL_REQUESTS_PER_MINUTE, timeWindow: 60_000 } },
      schema: {
        tags: ["vault"],
        security: [],
        description:
          "Gives this pay-server process one custodian share of the shamir vault (`mpay vault unseal` posts them).",
        // mpvs1_ + base64url of 37 bytes is 56 characters; the bound only keeps junk small.
        body: z.strictObject({ share: z.string().min(1).max(200) }),
        response: { 200: progressSchema, ...errors },
      },
    },
    async (request) => {
      if (!keys.unsealer) {
        throw new KeyProviderError(
          "vault_unseal_unsupported",
          `this server's key provider (${keys.kind}) has nothing to unseal; shares are for MPAY_KEK_PROVIDER=shamir`,
        );
      }
      try {
        const progress = await keys.unsealer.submitShare(request.body.share);
        if (!progress.sealed && progress.sharesReceived > 0) {
          request.log.warn({ threshold: progress.threshold }, "vault unsealed");
          await audit.record({
            actor: "operator:custodians",
            action: "vault.unsealed",
            data: { threshold: progress.threshold },
          });
        }
        return progress;
      } catch (error) {
        if (
          error instanceof KeyProviderError &&
          (error.code === "vault_share_rejected" ||
            error.code === "vault_share_invalid" ||
            error.code === "vault_share_retired")
        ) {
          request.log.warn({ code: error.code }, "vault share refused"); // which share, or any of its bytes, is never logged
        }
        throw error;
      }
    },
  );

  r.get(
    "/v1/vault/status",
    {
      config: { rateLimit: { max: STATUS_REQUESTS_PER_MINUTE, timeWindow: 60_000 } },
      schema: {
        tags: ["vault"],
        security: [],
        description: "The key provider of this process: kind, sealed or not, key versions.",
        response: { 200: statusSchema, ...errors },
      },
    },
    async () => keys.status(),
  );
}
