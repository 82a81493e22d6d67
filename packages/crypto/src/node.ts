/**
 * `@mpay/crypto/node`: everything in `@mpay/crypto`, plus MPay's JOSE on node:crypto with keys parsed once
 * (compact-jose.ts) for the servers and the benchmark's devices. Browsers import `@mpay/crypto`, which never loads
 * `node:` modules.
 */
export * from "./index.ts";
export {
  compactHeader,
  decryptCompact,
  encryptCompact,
  p256PublicKey,
  signCompact,
  verifyCompact,
  type DecryptedJwe,
  type JwsHeader,
  type P256PublicJwk,
  type VerifiedJws,
} from "./compact-jose.ts";
