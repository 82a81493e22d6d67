/**
 * The "Pay with MPay" browser script (packages/merchant/browser/mpay.js, issue 10 deliverable 1), served by the pay
 * server, and the one route it calls with the merchant's publishable key.
 *
 * - `GET /v1/js/mpay.js`: the script, `text/javascript`, cached a year (`/v1/` is its version: a change that would
 *   break pages is a new path), with `access-control-allow-origin: *` because Subresource Integrity on a
 *   cross-origin script needs CORS (`<script integrity=… crossorigin="anonymous">`).
 * - `GET /v1/js/mpay.js.sri`: its SHA-384 integrity value (`sha384-…`, computed once at startup from the bytes
 *   served), also sent as the script's ETag, so a merchant pins exactly what is served.
 * - `GET /v1/checkout-status/{id}?key=pk_…`: the payment's `status` alone, for the button to close its popup when
 *   the payer is done. A publishable key only (a secret key never belongs in a page), the payment must be that
 *   merchant's in that mode, and a browser may read the answer only from one of the merchant's `allowedOrigins`
 *   (CORS for that origin alone; another origin is refused). A GET with the key in the query is a "simple" request,
 *   so there is no preflight: a preflight carries no key, and could not know whose origins apply.
 *
 * Infrastructure: the caller passes how to resolve the key and read the status (app.ts), so this file knows no context.
 * Limited per address at the API's rate, on the API limits' counters (rate-limits.ts: Redis with REDIS_URL).
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { MerchantAuth } from "./caller.ts";
import { ApiError } from "./errors.ts";
import type { ApiLimits } from "./rate-limits.ts";
import { idParam } from "./route-kit.ts";

/** The script as merchants install it: the merchant SDK's file, read once. */
export const MERCHANT_SCRIPT_PATH = new URL("../../../../packages/merchant/browser/mpay.js", import.meta.url);

export interface CheckoutStatusSource {
  /** The merchant and mode of `Authorization: Bearer pk_…` (the merchants context, publishable keys). */
  authenticate(header: string): Promise<MerchantAuth>;
  /** The payment's status; throws the API's not-found error for another merchant's or mode's payment. */
  status(auth: MerchantAuth, paymentId: string): Promise<string>;
}

export interface MerchantScript {
  body: Buffer;
  /** `sha384-<base64>`, the value of a script tag's `integrity` attribute. */
  integrity: string;
}

export function loadMerchantScript(path: URL = MERCHANT_SCRIPT_PATH): MerchantScript {
  const body = readFileSync(path);
  return { body, integrity: `sha384-${createHash("sha384").update(body).digest("base64")}` };
}

const YEAR_SECONDS = 365 * 24 * 3600;

export async function merchantScriptRoutes(
  app: FastifyInstance,
  source: CheckoutStatusSource,
  options: { limits: ApiLimits; script?: MerchantScript },
): Promise<void> {
  const script = options.script ?? loadMerchantScript();
  await options.limits.register(app, "button");
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get("/v1/js/mpay.js", { schema: { hide: true } }, async (_request, reply) =>
    reply
      .header("content-type", "text/javascript; charset=utf-8")
      .header("cache-control", `public, max-age=${YEAR_SECONDS}, immutable`)
      .header("etag", `"${script.integrity}"`)
      .header("access-control-allow-origin", "*")
      .header("cross-origin-resource-policy", "cross-origin")
      .header("x-content-type-options", "nosniff")
      .send(script.body),
  );

  r.get("/v1/js/mpay.js.sri", { schema: { hide: true } }, async (_request, reply) =>
    reply
      .header("content-type", "text/plain; charset=utf-8")
      .header("cache-control", "no-cache")
      .header("access-control-allow-origin", "*")
      .send(script.integrity),
  );

  r.get(
    "/v1/checkout-status/:id",
    {
      schema: {
        hide: true,
        params: idParam,
        querystring: z.strictObject({ key: z.string().max(200) }),
      },
    },
    async (request, reply) => {
      const { key } = request.query;
      if (!/^pk_(test|live)_/.test(key)) {
        throw new ApiError(
          "api_key_invalid",
          "This route takes the publishable key (pk_…) as ?key=; a secret key must never be put in a web page.",
          "key",
        );
      }
      const auth = await source.authenticate(`Bearer ${key}`);
      const origin = request.headers.origin;
      if (origin !== undefined) {
        if (!auth.merchant.allowedOrigins.includes(origin)) {
          throw new ApiError(
            "url_not_registered",
            "This page's origin is not one of the merchant's allowed origins (POST /v1/account { allowedOrigins }).",
          );
        }
        reply.header("access-control-allow-origin", origin).header("vary", "origin");
      }
      const status = await source.status(auth, request.params.id);
      return reply
        .header("cache-control", "no-store")
        .send({ object: "checkout_status", id: request.params.id, status });
    },
  );
}
