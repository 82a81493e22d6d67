/**
 * The `whsec_` secrets a webhook endpoint signs with (issue 10, deliverable 5). Each endpoint has its own, made at
 * creation and sealed on its row; an endpoint made before that (or the default endpoint `mpay merchant create
 * --webhook-url` makes) has none of its own and signs with its merchant's account secret, as it always did. After a
 * rotation the previous secret keeps signing beside the new one until it expires, so deliveries carry both
 * signatures (Standard Webhooks allows a space-separated list) while the merchant deploys the new secret.
 */
import { Secret, type Mode } from "@mpay/protocol";
import type { Executor } from "../db/client.ts";
import type { KeyProvider } from "../keys/provider.ts";
import type { MerchantService } from "../merchants/service.ts";

export function webhookEndpointSecretAad(endpointId: string): string {
  // Current and previous secrets share it: a rotation moves the sealed blob as it is, without opening it.
  return `webhook-endpoint-secret|${endpointId}`;
}

export interface EndpointSecretColumns {
  id: string;
  merchantId: string;
  mode: Mode;
  sealedSecret: string | null;
  /** Only while the rotation's overlap lasts: callers pass null once previousSecretExpiresAt has passed. */
  previousSealedSecret: string | null;
}

/** Opened secrets are kept in memory by their sealed blob (a new seal, a rotation or a rekey, is a new entry). */
const CACHE_LIMIT = 1000;

export class EndpointSecrets {
  private readonly opened = new Map<string, Secret<string>>();

  constructor(
    private readonly keys: KeyProvider,
    private readonly merchants: MerchantService,
  ) {}

  /**
   * The endpoint's current secret in clear: HMAC needs it at signing time. `db`: the caller's transaction when
   * there is one (on the embedded database a read beside an open transaction would wait for it forever).
   */
  async current(e: EndpointSecretColumns, db?: Executor): Promise<Secret<string>> {
    if (e.sealedSecret === null) return this.merchants.webhookSecret(e.merchantId, e.mode, db);
    return this.open(e.id, e.sealedSecret);
  }

  /** Every secret a delivery is signed with now, the current one first. */
  async signing(e: EndpointSecretColumns, db?: Executor): Promise<Secret<string>[]> {
    const current = await this.current(e, db);
    if (e.previousSealedSecret === null) return [current];
    return [current, await this.open(e.id, e.previousSealedSecret)];
  }

  /** The current secret sealed for this endpoint's own column (an account secret becomes the endpoint's own). */
  async sealedCurrent(e: EndpointSecretColumns, db?: Executor): Promise<string> {
    if (e.sealedSecret !== null) return e.sealedSecret;
    return this.seal(e.id, (await this.current(e, db)).peek());
  }

  seal(endpointId: string, secret: string): Promise<string> {
    return this.keys.seal("webhook-secret", new TextEncoder().encode(secret), webhookEndpointSecretAad(endpointId));
  }

  private async open(endpointId: string, sealed: string): Promise<Secret<string>> {
    const cached = this.opened.get(sealed);
    if (cached) return cached;
    const bytes = await this.keys.open("webhook-secret", sealed, webhookEndpointSecretAad(endpointId));
    const secret = new Secret(new TextDecoder().decode(bytes));
    bytes.fill(0);
    if (this.opened.size >= CACHE_LIMIT) this.opened.clear();
    this.opened.set(sealed, secret);
    return secret;
  }
}
