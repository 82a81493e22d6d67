/**
 * Key shares of split custody (DESIGN.md "Split custody"): `DEK = K_dev XOR K_srv`, both 32 bytes from the
 * CSPRNG. Each share alone is uniformly random and independent of the DEK (PCI DSS 3.7.6: never a key cut in
 * two), so a server breach (K_srv) or a device breach (K_dev) reveals nothing of it.
 *
 * Secrets are `Uint8Array`s that the caller overwrites (`wipe`) as soon as it is done with them.
 */
export const SHARE_BYTES = 32;

export interface KeyShares {
  dek: Uint8Array;
  kDev: Uint8Array;
  kSrv: Uint8Array;
}

/** Two fresh random shares and the DEK they make. */
export function newKeyShares(): KeyShares {
  const kDev = crypto.getRandomValues(new Uint8Array(SHARE_BYTES));
  const kSrv = crypto.getRandomValues(new Uint8Array(SHARE_BYTES));
  return { kDev, kSrv, dek: combineShares(kDev, kSrv) };
}

/** The DEK from both shares (a new array; the shares are left as they are). */
export function combineShares(kDev: Uint8Array, kSrv: Uint8Array): Uint8Array {
  if (kDev.length !== SHARE_BYTES || kSrv.length !== SHARE_BYTES)
    throw new RangeError(`each key share is ${SHARE_BYTES} bytes`);
  const dek = new Uint8Array(SHARE_BYTES);
  for (let i = 0; i < SHARE_BYTES; i++) dek[i] = kDev[i]! ^ kSrv[i]!;
  return dek;
}

/** Overwrites secrets in place. */
export function wipe(...buffers: Array<Uint8Array | undefined>): void {
  for (const b of buffers) b?.fill(0);
}
