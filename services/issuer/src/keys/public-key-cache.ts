/**
 * Public keys parsed once (issue 11): a device key, or a pay-server statement key, is turned from its JWK into a
 * KeyObject the first time a request needs it and reused after. The cache is keyed by the key itself (curve and
 * coordinates), never by a `kid` alone, so a key is only ever found for exactly that key; which key may be used
 * is still decided per request by the caller (the live binding, the certificate). Bounded: past `capacity`
 * the oldest entry goes.
 */
import type { KeyObject } from "node:crypto";
import { p256PublicKey } from "@mpay/crypto/node";

export interface EcPublicKeyJwk {
  kty: string;
  crv: string;
  x: string;
  y: string;
}

export class PublicKeyCache {
  private readonly keys = new Map<string, KeyObject>();

  constructor(private readonly capacity = 10_000) {}

  get size(): number {
    return this.keys.size;
  }

  keyOf(jwk: EcPublicKeyJwk): KeyObject {
    const id = `${jwk.kty}|${jwk.crv}|${jwk.x}|${jwk.y}`;
    let key = this.keys.get(id);
    if (!key) {
      key = p256PublicKey(jwk);
      if (this.keys.size >= this.capacity) {
        const oldest = this.keys.keys().next().value;
        if (oldest !== undefined) this.keys.delete(oldest);
      }
      this.keys.set(id, key);
    }
    return key;
  }
}
