/**
 * `@mpay/wallet/node`: everything in `@mpay/wallet`, plus the file-backed key store for Node tests and tools
 * (the test stand-in for an OS keystore; see file-key-store.ts). Browsers import `@mpay/wallet`, which never
 * loads `node:` modules.
 */
export * from "./index.ts";
export { FileKeyStore } from "./file-key-store.ts";
