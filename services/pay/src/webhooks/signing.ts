// Standard Webhooks signing (https://www.standardwebhooks.com, spec/standard-webhooks.md), so that a merchant can
// verify our webhooks with an off-the-shelf library in any language.
//
// Signed content is `${msgId}.${timestamp}.${body}` for both schemes:
//   v1  — HMAC-SHA256 with the shared `whsec_` secret.
//   v1a — Ed25519 with our private key; the merchant holds only the `whpk_` public key, so a stolen copy of the
//         merchant's (or our) database cannot forge webhooks.
// node:crypto rather than WebCrypto: it is synchronous and faster for the many small messages the outbox signs.
import type { KeyObject } from "node:crypto";
import { createHmac, createPrivateKey, createPublicKey, randomFillSync, sign } from "node:crypto";
import { WEBHOOK_SECRET_PREFIX as SECRET_PREFIX } from "../merchants/webhook-secret.ts";

const PUBLIC_KEY_PREFIX = "whpk_";
// The spec asks for at least 24 bytes of HMAC key; we generate 32.
const MIN_SECRET_BYTES = 24;
const SEED_BYTES = 32;
// PKCS#8 DER header for an Ed25519 private key (RFC 8410 §7): node:crypto on Node 20 cannot import a raw seed,
// but a seed behind this fixed 16-byte header is a valid PKCS#8 document.
const PKCS8_ED25519_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export function signV1(secret: string, msgId: string, timestampSeconds: number, body: string): string {
  const mac = createHmac("sha256", decodeSecret(secret))
    .update(signedContent(msgId, timestampSeconds, body), "utf8")
    .digest("base64");
  return `v1,${mac}`;
}

/**
 * A new Ed25519 key pair for `v1a`. `privateKey` is the 32-byte RFC 8032 seed (not PKCS#8): the smallest form, the
 * one every Ed25519 library accepts, and what the key provider seals. `publicKey` is what the merchant is shown.
 *
 * The seed is 32 random bytes (RFC 8032 §5.1.5: an Ed25519 private key is exactly that), not generateKeyPairSync:
 * on Node 20 the synchronous key-generation job, left to the GC, can deadlock the JWK export of its key for good
 * (issue 11; packages/crypto/src/fresh-key-pair.ts), and this runs on every endpoint a merchant creates with v1a.
 */
export function generateV1aKeyPair(): { publicKey: string; privateKey: Uint8Array } {
  // A fresh Uint8Array, not a pooled Buffer, so the seed never shares memory with unrelated data.
  const privateKey = randomFillSync(new Uint8Array(SEED_BYTES));
  return { publicKey: v1aPublicKey(privateKey), privateKey };
}

/** The `whpk_` public key for a stored seed, so only the seed needs to be kept. */
export function v1aPublicKey(privateKey: Uint8Array): string {
  const raw = createPublicKey(ed25519Key(privateKey)).export({ format: "jwk" }).x;
  if (typeof raw !== "string") throw new Error("ed25519 key export failed");
  return PUBLIC_KEY_PREFIX + Buffer.from(raw, "base64url").toString("base64");
}

export function signV1a(privateKey: Uint8Array, msgId: string, timestampSeconds: number, body: string): string {
  // The key object is built per call and not cached: nothing secret outlives the call in module state.
  const content = Buffer.from(signedContent(msgId, timestampSeconds, body), "utf8");
  return `v1a,${sign(null, content, ed25519Key(privateKey)).toString("base64")}`;
}

export interface WebhookHeaderInput {
  msgId: string;
  timestamp: number; // unix seconds of this attempt (changes on every retry; msgId does not)
  body: string; // exactly the bytes that will be sent
  secret: string;
  /** During a secret rotation's overlap, the old secret: a second `v1,` signature, so either secret verifies. */
  previousSecret?: string | undefined;
  v1aPrivateKey?: Uint8Array | undefined;
}

export function webhookHeaders(input: WebhookHeaderInput): Record<string, string> {
  const { msgId, timestamp, body, secret, previousSecret, v1aPrivateKey } = input;
  const signatures = [signV1(secret, msgId, timestamp, body)];
  if (previousSecret !== undefined) signatures.push(signV1(previousSecret, msgId, timestamp, body));
  if (v1aPrivateKey) signatures.push(signV1a(v1aPrivateKey, msgId, timestamp, body));
  return {
    "webhook-id": msgId,
    "webhook-timestamp": String(timestamp),
    // Space-separated list: verifiers try each one they understand (the npm library skips v1a).
    "webhook-signature": signatures.join(" "),
    "content-type": "application/json",
  };
}

// The spec warns that the id and timestamp must not contain "." (it would make the signed content ambiguous);
// the id is also a header value, so visible ASCII only.
function signedContent(msgId: string, timestampSeconds: number, body: string): string {
  if (!/^[\x21-\x7e]+$/.test(msgId) || msgId.includes(".")) throw new Error("invalid webhook message id");
  if (!Number.isSafeInteger(timestampSeconds) || timestampSeconds < 0) throw new Error("invalid webhook timestamp");
  return `${msgId}.${timestampSeconds}.${body}`;
}

// Error messages never include the secret, only what is wrong with its shape.
function decodeSecret(secret: string): Buffer {
  if (!secret.startsWith(SECRET_PREFIX)) throw new Error("webhook secret must start with whsec_");
  const encoded = secret.slice(SECRET_PREFIX.length);
  // Buffer's base64 decoder silently skips bad characters; check first so a damaged secret fails loudly.
  if (!BASE64.test(encoded)) throw new Error("webhook secret is not valid base64");
  const key = Buffer.from(encoded, "base64");
  if (key.length < MIN_SECRET_BYTES) throw new Error("webhook secret is too short");
  return key;
}

function ed25519Key(seed: Uint8Array): KeyObject {
  if (seed.length !== SEED_BYTES) throw new Error("v1a private key must be a 32-byte ed25519 seed");
  const der = Buffer.concat([PKCS8_ED25519_PREFIX, seed]);
  try {
    return createPrivateKey({ key: der, format: "der", type: "pkcs8" });
  } finally {
    der.fill(0); // the KeyObject holds its own copy
  }
}
