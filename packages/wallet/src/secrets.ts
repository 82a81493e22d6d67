/**
 * Secrets in the wallet (key shares, DEK, OPAQUE session keys, opened card records) live in `Uint8Array`s, and
 * each is overwritten with zeros as soon as it has been used (DESIGN.md, "Split custody": "Secrets live in
 * `Uint8Array`s that are overwritten after use"; point 5: the wallet forgets K_srv, DEK and the opened record once
 * the JWE is built).
 *
 * Why bytes and not strings: a JavaScript string is immutable. Every slice, concatenation or decoding makes a new
 * copy that the program cannot reach to erase; the copies stay in the heap until the garbage collector reuses the
 * memory, which may be never for a long-lived page. A `Uint8Array` is one buffer that we can overwrite in place,
 * so after `wipe` a later heap dump, crash report or swapped-out page holds zeros instead of the secret.
 *
 * This is best effort, stated plainly: an engine may have copied the bytes before (a WASM module's linear memory,
 * a `TextDecoder` result, a structured clone), and some inputs arrive as strings we cannot wipe at all — the PIN
 * typed into an input field, and the base64url strings that `@serenity-kit/opaque` takes and returns. The rule is
 * therefore: turn a secret into bytes as early as possible, keep it as bytes, wipe it as soon as possible, and
 * never put it into a string we create ourselves (no template literal, no JSON, no log).
 */
export function wipe(...buffers: Uint8Array[]): void {
  for (const buffer of buffers) buffer.fill(0);
}

/** Runs `use` with `secret` and wipes `secret` afterwards, whether `use` succeeds or throws. */
export async function withWiped<T>(secret: Uint8Array, use: (secret: Uint8Array) => Promise<T> | T): Promise<T> {
  try {
    return await use(secret);
  } finally {
    wipe(secret);
  }
}
