/**
 * WebCrypto takes views over an `ArrayBuffer`, never over a `SharedArrayBuffer` (WebIDL `BufferSource` without
 * `[AllowShared]`), and TypeScript 5.7+ types it so, while libraries such as jose's `base64url.decode` return
 * `Uint8Array<ArrayBufferLike>`. This narrows the type without copying; only a shared view is copied (the caller
 * wipes the copy if the bytes are secret, as with any other copy).
 */
export function arrayBufferBytes(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes);
}
