/**
 * The provider's own keys, never oidc-provider's development keys: a JWKS (one ES256 key, which signs ID tokens
 * for MPay's clients, and one RS256 key, the algorithm OpenID Connect requires every provider to offer) and the
 * keys that sign its cookies. Both are made on the first start and kept in the database, so that every process on
 * the same database signs with the same keys and a restart changes neither (ID tokens issued before still verify;
 * sessions survive). Cookie keys can instead come from MESSENGER_COOKIE_KEYS.
 */
import { generateKeyPair, randomBytes } from "node:crypto";
import { promisify } from "node:util";
import { eq } from "drizzle-orm";
import { calculateJwkThumbprint, type JWK } from "jose";
import type { Secret } from "@mpay/protocol";
import type { Db } from "../db/client.ts";
import { providerSecrets } from "../db/schema.ts";

export interface SigningKeys {
  /** Private JWKs, as oidc-provider's `jwks` option wants them; the public halves are served at /oidc/jwks. */
  keys: JWK[];
}

export interface ProviderSecrets {
  jwks: SigningKeys;
  cookieKeys: string[];
}

const generateKeyPairAsync = promisify(generateKeyPair);

/**
 * The async generateKeyPair, not generateKeyPairSync: on Node 20 the synchronous call leaves its key-generation job
 * to the GC, which can destroy it inside the JWK export below and deadlock the process for good (issue 11); the
 * async job is destroyed before its promise settles. Made once, on the first start, but one start hanging is enough.
 */
async function signingKey(kind: "ec" | "rsa"): Promise<JWK> {
  const { privateKey } =
    kind === "ec"
      ? await generateKeyPairAsync("ec", { namedCurve: "P-256" })
      : await generateKeyPairAsync("rsa", { modulusLength: 2048 });
  const jwk = privateKey.export({ format: "jwk" }) as JWK;
  const kid = await calculateJwkThumbprint(jwk);
  return { ...jwk, kid, use: "sig", alg: kind === "ec" ? "ES256" : "RS256" };
}

/** The stored value named `name`, made by `make` when absent; concurrent first starts agree on the first insert. */
async function stored<T>(db: Db, name: string, make: () => Promise<T>): Promise<T> {
  const read = async () =>
    (await db.select({ value: providerSecrets.value }).from(providerSecrets).where(eq(providerSecrets.name, name)))[0];
  const existing = await read();
  if (existing) return existing.value as T;
  await db
    .insert(providerSecrets)
    .values({ name, value: await make() })
    .onConflictDoNothing();
  const winner = await read();
  if (!winner) throw new Error(`provider secret ${name} could not be stored`);
  return winner.value as T;
}

export async function loadProviderSecrets(db: Db, cookieKeys: Secret<string[]> | undefined): Promise<ProviderSecrets> {
  // ES256 first: oidc-provider signs with the first key of the algorithm a client asks for.
  const jwks = await stored<SigningKeys>(db, "jwks", async () => ({
    keys: [await signingKey("ec"), await signingKey("rsa")],
  }));
  const keys =
    cookieKeys?.peek() ??
    (await stored<string[]>(db, "cookie_keys", async () => [randomBytes(32).toString("base64url")]));
  return { jwks, cookieKeys: keys };
}
