/**
 * Merchants, their API keys and their webhook signing secrets. This is the only code that sees a secret key in
 * clear, once, when it is made; afterwards only hashes are stored and compared.
 */
import { Secret, newId, type Mode } from "@mpay/protocol";
import type { Db, Executor } from "../db/client.ts";
import type { MerchantAuth, MerchantRole } from "../http/caller.ts";
import { ApiError } from "../http/errors.ts";
import type { KeyProvider } from "../keys/provider.ts";
import type { AuditService } from "../audit/service.ts";
import { generateApiKey, hashApiKey, parseApiKey } from "./api-keys.ts";
import { generateWebhookSecret } from "./webhook-secret.ts";
import {
  countLiveKeys,
  expireKeys,
  findKeyByHash,
  findMerchant,
  findWebhookSecret,
  hasModeKeys,
  insertApiKey,
  insertMerchant,
  insertWebhookSecret,
  listMerchants,
  type MerchantRow,
  setSuspended,
  updateAllowedOrigins,
} from "./store.ts";

/** Who a request comes from: its shape is the HTTP layer's, which scopes requests by it. */
export type { MerchantAuth };

export interface NewMerchant {
  merchant: MerchantRow;
  mode: Mode;
  secretKey: Secret<string>;
  publishableKey: string;
  webhookSecret: Secret<string>;
}

/** A parsed key stays valid in this cache for this long; a rolled key with immediate expiry dies within it. */
const AUTH_CACHE_MS = 10_000;
/** Display names kept per process: far more merchants than pay at once; past it the cache starts over. */
const MAX_CACHED_DISPLAY_NAMES = 10_000;
const ORIGIN_PATTERN = /^https?:\/\/[^/?#\s]+$/;

/** At most this many registered origins per merchant: a shop or two per environment, not a list to grow forever. */
export const MAX_ALLOWED_ORIGINS = 20;

/**
 * The origins a merchant's returnUrl and cancelUrl may point at, checked: each an origin as browsers write it
 * (`https://shop.example`, a trailing slash dropped; no path, query, credentials or upper case), no duplicates.
 */
function returnOrigins(list: readonly string[]): string[] {
  if (list.length > MAX_ALLOWED_ORIGINS)
    throw new ApiError(
      "parameter_invalid",
      `allowedOrigins holds at most ${MAX_ALLOWED_ORIGINS} origins.`,
      "allowedOrigins",
    );
  const origins = list.map((o) => o.replace(/\/$/, ""));
  for (const origin of origins) {
    let canonical: string | null = null;
    try {
      canonical = new URL(origin).origin;
    } catch {
      canonical = null;
    }
    if (!ORIGIN_PATTERN.test(origin) || canonical !== origin)
      throw new ApiError(
        "parameter_invalid",
        `allowedOrigins must be origins like https://shop.example, not ${JSON.stringify(origin.slice(0, 100))}.`,
        "allowedOrigins",
      );
  }
  return [...new Set(origins)];
}

/**
 * Resolves a dashboard user's session (`mds_…`) to its user, merchant and role: the merchant-users context, wired
 * in by the system, so that this context imports none of it.
 */
export interface DashboardSessionResolver {
  resolveSession(token: string): Promise<{ userId: string; merchantId: string; role: MerchantRole }>;
}

/** `MPay-Mode` of a dashboard request: `test` (the default) or `live`. */
function modeOf(header: string | string[] | undefined): Mode {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value === "test") return "test";
  if (value === "live") return "live";
  throw new ApiError("parameter_invalid", "The MPay-Mode header must be test or live.", "MPay-Mode");
}

function suspendedError(): ApiError {
  return new ApiError("merchant_suspended", "This merchant is suspended by MPay; contact MPay support.");
}

export function webhookSecretAad(merchantId: string, mode: Mode): string {
  return `webhook-secret|${merchantId}|${mode}`;
}

export class MerchantService {
  private readonly authCache = new Map<string, { auth: MerchantAuth; expiresAt: number | null; cachedAt: number }>();
  private readonly openedSecrets = new Map<string, Secret<string>>();
  #sessions: DashboardSessionResolver | null = null;
  readonly #displayNames = new Map<string, string>();
  #keysChanged: (() => void) | null = null;

  constructor(
    private readonly db: Db,
    private readonly keys: KeyProvider,
    private readonly audit: AuditService,
  ) {}

  /** Creates a merchant with its keys for one mode. Live keys are refused while the key provider is `dev`. */
  async create(input: {
    name: string;
    displayName?: string;
    allowedOrigins?: string[];
    mode?: Mode;
    actor?: string;
  }): Promise<NewMerchant> {
    const mode = input.mode ?? "test";
    const name = input.name.trim();
    if (!name || name.length > 100 || /[<>\p{Cc}]/u.test(name)) {
      throw new ApiError("parameter_invalid", "name must be 1 to 100 characters of plain text.", "name");
    }
    const origins = returnOrigins(input.allowedOrigins ?? []);
    this.assertModeAllowed(mode);
    return this.db.transaction(async (tx) => {
      const merchant = await insertMerchant(tx, {
        id: newId("merchant"),
        name,
        displayName: input.displayName?.trim() || name,
        allowedOrigins: origins,
      });
      const { secretKey, publishableKey } = await this.issueKeys(tx, merchant.id, mode);
      const webhookSecret = await this.issueWebhookSecret(tx, merchant.id, mode);
      await this.audit.append(tx, {
        actor: input.actor ?? "operator:cli",
        action: "merchant.created",
        target: merchant.id,
        data: { mode, name },
      });
      await this.audit.append(tx, {
        actor: input.actor ?? "operator:cli",
        action: "api_key.created",
        target: merchant.id,
        data: { mode, last4: secretKey.peek().slice(-4) },
      });
      return { merchant, mode, secretKey, publishableKey, webhookSecret };
    });
  }

  /** Adds keys for another mode (a test merchant going live). */
  async addMode(
    merchantId: string,
    mode: Mode,
  ): Promise<{ secretKey: Secret<string>; publishableKey: string; webhookSecret: Secret<string> }> {
    this.assertModeAllowed(mode);
    return this.db.transaction(async (tx) => {
      const keys = await this.issueKeys(tx, merchantId, mode);
      const webhookSecret = await this.issueWebhookSecret(tx, merchantId, mode);
      await this.audit.append(tx, {
        actor: "operator:cli",
        action: "api_key.created",
        target: merchantId,
        data: { mode, last4: keys.secretKey.peek().slice(-4) },
      });
      return { ...keys, webhookSecret };
    });
  }

  /**
   * Rolls the secret key of one mode: a new key is issued and every older one expires after `graceSeconds`
   * (0 = at once), so a merchant can deploy the new key before the old one stops working.
   */
  async rollSecretKey(
    merchantId: string,
    mode: Mode,
    graceSeconds: number,
    actor: string,
    within?: Executor,
  ): Promise<{ secretKey: Secret<string>; oldKeysExpireAt: Date }> {
    if (!Number.isInteger(graceSeconds) || graceSeconds < 0 || graceSeconds > 7 * 86_400) {
      throw new ApiError(
        "parameter_invalid",
        "expiresInSeconds must be an integer from 0 to 604800 (7 days).",
        "expiresInSeconds",
      );
    }
    const expiresAt = new Date(Date.now() + graceSeconds * 1000);
    const roll = async (tx: Executor) => {
      const expired = await expireKeys(tx, merchantId, mode, "secret", expiresAt);
      const secretKey = new Secret(generateApiKey("secret", mode));
      await insertApiKey(tx, {
        id: newId("apiKey"),
        merchantId,
        mode,
        kind: "secret",
        keyHash: hashApiKey(secretKey.peek()),
        last4: secretKey.peek().slice(-4),
      });
      await this.audit.append(tx, {
        actor,
        action: "api_key.rolled",
        target: merchantId,
        data: {
          mode,
          expiredKeys: expired,
          oldKeysExpireAt: expiresAt.toISOString(),
          last4: secretKey.peek().slice(-4),
        },
      });
      this.#forgetKeys();
      return { secretKey, oldKeysExpireAt: expiresAt };
    };
    return within ? roll(within) : this.db.transaction(roll);
  }

  /**
   * Replaces the origins the merchant's returnUrl and cancelUrl may point at (a new shop needs no restart). This
   * process forgets its cached keys at once and tells the others (Redis or PostgreSQL, cluster-redis.ts and
   * cluster-postgres.ts); a process no news reaches sees the change within its cache's 10 s.
   */
  async setAllowedOrigins(
    tx: Executor,
    merchantId: string,
    list: readonly string[],
    actor: string,
  ): Promise<MerchantRow> {
    const origins = returnOrigins(list);
    const before = await findMerchant(tx, merchantId);
    if (!before) throw new ApiError("resource_missing", "No such merchant.");
    const updated = await updateAllowedOrigins(tx, merchantId, origins);
    await this.audit.append(tx, {
      actor,
      action: "merchant.origins_updated",
      target: merchantId,
      data: { before: before.allowedOrigins, after: origins },
    });
    this.#forgetKeys();
    return updated;
  }

  /**
   * Suspends a merchant or lifts its suspension (the operator console, admins only): while suspended, its API keys
   * and dashboard sessions are refused with `merchant_suspended`. This process forgets its cached keys at once and
   * tells the others, as for origins. Audited `merchant.suspended` / `merchant.unsuspended`.
   */
  async setSuspended(merchantId: string, suspended: boolean, actor: string): Promise<MerchantRow> {
    const updated = await this.db.transaction(async (tx) => {
      const row = await setSuspended(tx, merchantId, suspended ? new Date() : null);
      if (!row) throw new ApiError("resource_missing", "No such merchant.", "id");
      await this.audit.append(tx, {
        actor,
        action: suspended ? "merchant.suspended" : "merchant.unsuspended",
        target: merchantId,
        data: {},
      });
      return row;
    });
    this.#forgetKeys();
    return updated;
  }

  /**
   * Told after this process changed a key, origins or suspension: the other processes forget theirs
   * (cluster-redis.ts, cluster-postgres.ts).
   */
  onKeysChanged(listener: () => void): void {
    this.#keysChanged = listener;
  }

  /** Another process changed a merchant's keys: the next request reads them from the database. */
  forgetCachedKeys(): void {
    this.authCache.clear();
  }

  #forgetKeys(): void {
    this.authCache.clear();
    this.#keysChanged?.();
  }

  /** Lets `authenticate` take dashboard sessions (`mds_…`) where it takes a secret key. */
  useDashboardSessions(resolver: DashboardSessionResolver): void {
    this.#sessions = resolver;
  }

  /**
   * Resolves `Authorization: Bearer sk_…` to a merchant and mode, or throws an authentication error. Where a secret
   * key is accepted, a dashboard user's session (`mds_…`) is too, in the mode `MPay-Mode` names (default test),
   * with the user's role: permissions.ts of merchant-users decides per route what that role may do.
   */
  async authenticate(
    header: string | undefined,
    accept: "secret" | "publishable" = "secret",
    modeHeader?: string | string[],
  ): Promise<MerchantAuth> {
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match?.[1])
      throw new ApiError("api_key_missing", "Send your secret key as `Authorization: Bearer sk_test_…`.");
    const key = match[1];
    if (key.startsWith("mds_") && accept === "secret" && this.#sessions)
      return this.authenticateSession(this.#sessions, key, modeHeader);
    const parsed = parseApiKey(key);
    if (!parsed) throw new ApiError("api_key_invalid", "The API key is not valid.");
    if (parsed.kind !== accept) {
      throw new ApiError(
        "secret_key_required",
        "This route needs a secret key (sk_…); publishable keys (pk_…) only work in the browser.",
      );
    }
    const now = Date.now();
    const hash = hashApiKey(key);
    const cached = this.authCache.get(hash);
    if (cached && now - cached.cachedAt < AUTH_CACHE_MS) {
      if (cached.expiresAt !== null && cached.expiresAt <= now)
        throw new ApiError("api_key_expired", "This API key was rolled and has expired; use the new key.");
      return cached.auth;
    }
    const found = await findKeyByHash(this.db, hash);
    if (!found) throw new ApiError("api_key_invalid", "The API key is not valid.");
    const { key: row, merchant } = found;
    if (merchant.suspendedAt) throw suspendedError();
    const auth: MerchantAuth = {
      merchantId: merchant.id,
      mode: row.mode,
      keyId: row.id,
      actor: `merchant:${merchant.id}`,
      merchant: {
        id: merchant.id,
        name: merchant.name,
        displayName: merchant.displayName,
        allowedOrigins: merchant.allowedOrigins,
      },
    };
    const expiresAt = row.expiresAt ? row.expiresAt.getTime() : null;
    if (this.authCache.size > 10_000) this.authCache.clear();
    this.authCache.set(hash, { auth, expiresAt, cachedAt: now });
    if (expiresAt !== null && expiresAt <= now)
      throw new ApiError("api_key_expired", "This API key was rolled and has expired; use the new key.");
    return auth;
  }

  private async authenticateSession(
    sessions: DashboardSessionResolver,
    token: string,
    modeHeader: string | string[] | undefined,
  ): Promise<MerchantAuth> {
    const mode = modeOf(modeHeader);
    const session = await sessions.resolveSession(token);
    const merchant = await findMerchant(this.db, session.merchantId);
    if (!merchant) throw new ApiError("dashboard_session_invalid", "The dashboard session's merchant is gone.");
    if (merchant.suspendedAt) throw suspendedError();
    if (mode === "live" && !(await hasModeKeys(this.db, merchant.id, "live")))
      throw new ApiError("live_mode_forbidden", "This merchant has no live mode yet: its live keys are not issued.");
    return {
      merchantId: merchant.id,
      mode,
      keyId: session.userId,
      actor: `merchant_user:${session.userId}`,
      role: session.role,
      merchant: {
        id: merchant.id,
        name: merchant.name,
        displayName: merchant.displayName,
        allowedOrigins: merchant.allowedOrigins,
      },
    };
  }

  /**
   * The merchant's account webhook secret in clear: HMAC needs it at signing time. Kept only in memory. It signs
   * the endpoints that have no secret of their own (webhooks/endpoint-secrets.ts). `db`: the caller's transaction
   * when it reads inside one (the embedded database has a single connection).
   */
  async webhookSecret(merchantId: string, mode: Mode, db: Executor = this.db): Promise<Secret<string>> {
    const cacheKey = `${merchantId}|${mode}`;
    const cached = this.openedSecrets.get(cacheKey);
    if (cached) return cached;
    const sealed = await findWebhookSecret(db, merchantId, mode);
    if (!sealed) throw new Error(`merchant ${merchantId} has no ${mode} webhook secret`);
    const opened = await this.keys.open("webhook-secret", sealed, webhookSecretAad(merchantId, mode));
    const secret = new Secret(new TextDecoder().decode(opened));
    opened.fill(0);
    this.openedSecrets.set(cacheKey, secret);
    return secret;
  }

  /** `db`: the caller's transaction when it reads inside one (the embedded database has a single connection). */
  get(id: string, db: Executor = this.db): Promise<MerchantRow | null> {
    return findMerchant(db, id);
  }

  /**
   * The merchant's registered display name (what a payer approves a payment to), null for no such merchant. Read
   * once per process: it is fixed when the merchant is made (no statement updates it; schema.ts) and is no
   * authorization fact, so the approval path's challenge needs no round trip for it (issue 11).
   */
  async displayName(id: string): Promise<string | null> {
    const known = this.#displayNames.get(id);
    if (known !== undefined) return known;
    const merchant = await findMerchant(this.db, id);
    if (!merchant) return null;
    if (this.#displayNames.size >= MAX_CACHED_DISPLAY_NAMES) this.#displayNames.clear();
    this.#displayNames.set(id, merchant.displayName);
    return merchant.displayName;
  }

  list(): Promise<MerchantRow[]> {
    return listMerchants(this.db);
  }

  /** DESIGN.md: the dev provider is refused once any merchant has an `sk_live_` key. */
  async assertProviderFitsKeys(): Promise<void> {
    if (this.keys.kind === "dev" && (await countLiveKeys(this.db)) > 0) {
      throw new Error(
        "the dev key provider is refused: live API keys exist. Configure MPAY_KEK_PROVIDER=pkcs11 or shamir.",
      );
    }
  }

  private assertModeAllowed(mode: Mode): void {
    if (mode === "live" && this.keys.kind === "dev") {
      throw new ApiError(
        "live_mode_forbidden",
        "Live keys need a production key provider (pkcs11 or shamir); the dev provider keeps its key in a file.",
      );
    }
  }

  private async issueKeys(
    tx: Executor,
    merchantId: string,
    mode: Mode,
  ): Promise<{ secretKey: Secret<string>; publishableKey: string }> {
    const secretKey = new Secret(generateApiKey("secret", mode));
    const publishableKey = generateApiKey("publishable", mode);
    await insertApiKey(tx, {
      id: newId("apiKey"),
      merchantId,
      mode,
      kind: "secret",
      keyHash: hashApiKey(secretKey.peek()),
      last4: secretKey.peek().slice(-4),
    });
    await insertApiKey(tx, {
      id: newId("apiKey"),
      merchantId,
      mode,
      kind: "publishable",
      keyHash: hashApiKey(publishableKey),
      publishableKey,
      last4: publishableKey.slice(-4),
    });
    return { secretKey, publishableKey };
  }

  private async issueWebhookSecret(tx: Executor, merchantId: string, mode: Mode): Promise<Secret<string>> {
    const secret = generateWebhookSecret();
    const sealed = await this.keys.seal(
      "webhook-secret",
      new TextEncoder().encode(secret),
      webhookSecretAad(merchantId, mode),
    );
    await insertWebhookSecret(tx, merchantId, mode, sealed);
    return new Secret(secret);
  }
}
