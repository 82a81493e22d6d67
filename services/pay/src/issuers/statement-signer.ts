/**
 * The pay server's own signing key toward the issuers (DESIGN.md "Split custody", point 3): with a PIN approval,
 * the issuer gets the pay server's signed statement that OPAQUE succeeded for this challenge and these terms, as
 * 3-D Secure's authentication value. The issuers fetch the public key from `/.well-known/jwks.json`.
 *
 * The private key is made once, sealed by the key provider and kept in provider_secrets (every process signs
 * with the same key; a database dump alone cannot sign). It is loaded on first use, so a sealed vault (shamir)
 * does not stop the server from starting.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { signWith } from "@mpay/crypto";
import { JOSE_TYPES, type PinStatement } from "@mpay/protocol";
import canonicalize from "canonicalize";
import { calculateJwkThumbprint, type JWK } from "jose";
import type { Db } from "../db/client.ts";
import type { KeyProvider } from "../keys/provider.ts";
import { providerSecret } from "../keys/provider-secrets.ts";

interface LoadedKey {
  kid: string;
  privateKey: KeyObject;
  publicJwk: JWK;
}

export class StatementSigner {
  #key: Promise<LoadedKey> | undefined;

  constructor(
    private readonly db: Db,
    private readonly keys: KeyProvider,
    /** The `iss` of every statement: this server's public URL. */
    readonly issuer: string,
  ) {}

  async signPinStatement(statement: Omit<PinStatement, "iss" | "method">): Promise<string> {
    const key = await this.#load();
    const payload: PinStatement = { iss: this.issuer, method: "pin", ...statement };
    return signWith(new TextEncoder().encode(canonicalize(payload)), key.privateKey, { typ: JOSE_TYPES.pinStatement, kid: key.kid });
  }

  /** The public half, as a JWK Set. */
  async jwks(): Promise<{ keys: JWK[] }> {
    const key = await this.#load();
    return { keys: [{ ...key.publicJwk, kid: key.kid, alg: "ES256", use: "sig" }] };
  }

  #load(): Promise<LoadedKey> {
    this.#key ??= (async () => {
      const secret = await providerSecret(this.db, this.keys, "issuer-statement-key", () => {
        const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
        return JSON.stringify(privateKey.export({ format: "jwk" }));
      });
      const privateKey = createPrivateKey({ key: JSON.parse(secret.peek()) as JWK & { kty: string }, format: "jwk" });
      const { kty, crv, x, y } = createPublicKey(privateKey).export({ format: "jwk" });
      const publicJwk: JWK = { kty, crv, x, y };
      return { kid: await calculateJwkThumbprint(publicJwk, "sha256"), privateKey, publicJwk };
    })();
    this.#key.catch(() => (this.#key = undefined));
    return this.#key;
  }
}
