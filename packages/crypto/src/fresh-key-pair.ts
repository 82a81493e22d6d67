/**
 * Fresh key pairs on node:crypto made without a key-generation job (issue 11), for the server side and the bench.
 *
 * Not `generateKeyPairSync` followed by `export({ format: "jwk" })`: on Node 20 that pair deadlocks the process for
 * good, now and then. The synchronous call leaves its KeyGenJob to the garbage collector; when a collection runs
 * inside the JWK export (which allocates the JWK's members while holding the key's mutex) and destroys that job, its
 * destructor waits on the very mutex the export holds (gdb: `~KeyGenJob` → `uv_mutex_lock` under `ExportJWKEcKey`).
 * A loop of keygen + export with some allocation hangs within seconds (P-256, X25519 and Ed25519 alike). The async
 * `generateKeyPair` does not: its job is destroyed as soon as its callback has run, before the caller can export.
 *
 * So the keys here never have a job: P-256 from ECDH's raw key pair, X25519 from 32 random bytes behind a fixed
 * PKCS#8 header; exporting them, or a public key made from them, is safe at any time.
 *
 * Node only: imported as `@mpay/crypto/fresh-key-pair`, never through the package's index, which the wallet (and so
 * the browser bundle) takes — a browser has neither node:crypto nor Buffer.
 */
import { createECDH, createPrivateKey, createPublicKey, randomFillSync, type KeyObject } from "node:crypto";
import type { EcPublicJwk } from "@mpay/protocol";

// RFC 8410 §7: the PKCS#8 DER of an X25519 private key is this fixed 16-byte header, then the 32-byte key.
const PKCS8_X25519_PREFIX = Buffer.from("302e020100300506032b656e04220420", "hex");
const SCALAR_BYTES = 32;

const b64u = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64url");

/** A fresh P-256 key pair: the private half a KeyObject, the public one a JWK (the form the servers take). */
export function freshP256(): { privateKey: KeyObject; publicJwk: EcPublicJwk } {
  const ecdh = createECDH("prime256v1");
  const point = ecdh.generateKeys(); // uncompressed: 0x04 ‖ x ‖ y
  const publicJwk: EcPublicJwk = {
    kty: "EC",
    crv: "P-256",
    x: b64u(point.subarray(1, 1 + SCALAR_BYTES)),
    y: b64u(point.subarray(1 + SCALAR_BYTES)),
  };
  const raw = ecdh.getPrivateKey();
  const d = Buffer.alloc(SCALAR_BYTES); // a scalar with leading zero bytes comes shorter: pad it on the left
  raw.copy(d, SCALAR_BYTES - raw.length);
  try {
    return { privateKey: createPrivateKey({ key: { ...publicJwk, d: b64u(d) }, format: "jwk" }), publicJwk };
  } finally {
    raw.fill(0);
    d.fill(0);
  }
}

/** A fresh X25519 key pair; `x` is the raw public key, base64url (the JWK's `x`). */
export function freshX25519(): { privateKey: KeyObject; publicKey: KeyObject; x: string } {
  const der = Buffer.alloc(PKCS8_X25519_PREFIX.length + SCALAR_BYTES);
  PKCS8_X25519_PREFIX.copy(der);
  const scalar = der.subarray(PKCS8_X25519_PREFIX.length);
  randomFillSync(scalar);
  // RFC 7748 §5 clamping, as OpenSSL's own key generation stores it (X25519 clamps on use anyway).
  scalar[0] = (scalar[0] ?? 0) & 248;
  scalar[31] = ((scalar[31] ?? 0) & 127) | 64;
  try {
    const privateKey = createPrivateKey({ key: der, format: "der", type: "pkcs8" });
    const publicKey = createPublicKey(privateKey);
    const { x } = publicKey.export({ format: "jwk" });
    if (typeof x !== "string") throw new Error("an X25519 public key has an x");
    return { privateKey, publicKey, x };
  } finally {
    der.fill(0); // the KeyObject holds its own copy
  }
}
