/**
 * The pay server's PIN-statement keys (DESIGN.md "Split custody", point 3): ES256 private keys made here, sealed by
 * the key provider and kept in provider_secrets, so every process signs with the same ones and a database dump
 * alone holds only ciphertext. Keys come in generations so that one can be rotated without a gap: generation 1 is
 * `issuer-statement-key` (the name it always had), a rotation adds `issuer-statement-key-<n>`; the signer uses the
 * newest key that holds a valid network certificate, so a new key signs only once the network has certified it.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { freshP256 } from "@mpay/crypto/fresh-key-pair";
import type { EcPublicJwk } from "@mpay/protocol";
import { calculateJwkThumbprint, type JWK } from "jose";
import type { Db } from "../db/client.ts";
import type { KeyProvider } from "../keys/provider.ts";
import { providerSecret, providerSecretNames, type ProviderSecretName } from "../keys/provider-secrets.ts";

export interface StatementKey {
  generation: number;
  /** RFC 7638 thumbprint of the public key: the `kid` of its statements and of its certificates. */
  kid: string;
  publicJwk: EcPublicJwk;
  privateKey: KeyObject;
}

const FIRST = "issuer-statement-key";

function nameOf(generation: number): ProviderSecretName {
  return generation === 1 ? FIRST : `${FIRST}-${generation}`;
}

function generationOf(name: string): number | null {
  if (name === FIRST) return 1;
  const match = /^issuer-statement-key-([1-9]\d{0,5})$/.exec(name);
  return match ? Number(match[1]) : null;
}

/** A new key (on the first start and per rotation), from freshP256: generateKeyPairSync + JWK export can hang. */
function newPrivateJwk(): string {
  const { privateKey } = freshP256();
  return JSON.stringify(privateKey.export({ format: "jwk" }));
}

async function open(db: Db, keys: KeyProvider, generation: number): Promise<StatementKey> {
  const secret = await providerSecret(db, keys, nameOf(generation), newPrivateJwk);
  const privateKey = createPrivateKey({ key: JSON.parse(secret.peek()) as JWK & { kty: string }, format: "jwk" });
  const { x, y } = createPublicKey(privateKey).export({ format: "jwk" });
  const publicJwk: EcPublicJwk = { kty: "EC", crv: "P-256", x: String(x), y: String(y) };
  return { generation, kid: await calculateJwkThumbprint(publicJwk, "sha256"), publicJwk, privateKey };
}

/** The generations stored, oldest first (none before the first key is made). */
async function storedGenerations(db: Db): Promise<number[]> {
  const names = await providerSecretNames(db, FIRST);
  return names
    .map((name) => generationOf(name))
    .filter((generation): generation is number => generation !== null)
    .sort((a, b) => a - b);
}

/** Every statement key, oldest first; the first is made when there is none yet. Opens each with the key provider. */
export async function statementKeys(db: Db, keys: KeyProvider): Promise<StatementKey[]> {
  const generations = await storedGenerations(db);
  return Promise.all((generations.length > 0 ? generations : [1]).map((generation) => open(db, keys, generation)));
}

/** Makes the next generation's key and answers it. It signs nothing until its certificate is installed. */
export async function rotateStatementKey(db: Db, keys: KeyProvider): Promise<StatementKey> {
  const generations = await storedGenerations(db);
  if (generations.length === 0) await open(db, keys, 1);
  return open(db, keys, (generations.at(-1) ?? 1) + 1);
}
