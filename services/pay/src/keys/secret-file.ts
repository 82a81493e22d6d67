/**
 * A bearer secret that a sibling process wrote into a JSON file in development (the embedded issuer simulator's
 * `acquirer.json`, the embedded messenger's client secret), kept in memory so that the pay path does not read and
 * parse the file on every authorization or announcement (issue 11), yet a rewritten file is still picked up.
 *
 * Each caller says how long a value is served from memory before the file is looked at again (`recheckAfterMs`, 0 for
 * every call). Looking costs one `stat`: the file is read again only when its inode, size or modification time
 * changed. A file modified less than RACY_MS before it was read is read again at the next look all the same (git's
 * "racily clean" rule): a rewrite of the same size within one tick of the file system's clock leaves the stat as it
 * was. A missing or unusable file is remembered as such for `missingRecheckAfterMs`.
 *
 * Infrastructure: answers the secret or null, and each context turns null into its own error.
 */
import { readFile, stat } from "node:fs/promises";

export interface SecretFilePolicy {
  /** How long a secret read is served from memory before the file is looked at again; 0 looks on every call. */
  recheckAfterMs: number;
  /** How long a missing, unreadable or unusable file is taken as such before it is looked at again. */
  missingRecheckAfterMs: number;
}

/** The shortest secret taken from a file: both writers make 32 random bytes, base64url (43 characters). */
export const MIN_FILE_SECRET_LENGTH = 32;
const RACY_MS = 2_000;

interface Remembered {
  secret: string | null;
  /** The stat the secret was read under (inode, size, mtime); null when it must be read again at the next look. */
  version: string | null;
  lookedAt: number;
}

const remembered = new Map<string, Remembered>();

/**
 * The string at `field` of the JSON object in `file` (at least MIN_FILE_SECRET_LENGTH characters), or null when the
 * file is missing, unreadable or holds none. `now` is the clock of the policy's intervals (tests pass their own).
 */
export async function secretFromFile(
  file: string,
  field: string,
  policy: SecretFilePolicy,
  now: () => number = Date.now,
): Promise<string | null> {
  const key = `${file}\0${field}`;
  const known = remembered.get(key);
  const at = now();
  if (known) {
    const interval = known.secret === null ? policy.missingRecheckAfterMs : policy.recheckAfterMs;
    if (at - known.lookedAt < interval) return known.secret;
  }
  const stats = await stat(file).catch(() => null);
  const version = stats ? `${stats.ino}:${stats.size}:${stats.mtimeMs}` : null;
  if (known?.secret != null && version !== null && version === known.version) {
    known.lookedAt = at;
    return known.secret;
  }
  const secret = stats ? await readSecret(file, field) : null;
  // Settled: modified long enough before this read that a later rewrite must change the stat.
  const settled = stats !== null && Date.now() - stats.mtimeMs >= RACY_MS;
  remembered.set(key, { secret, version: settled ? version : null, lookedAt: at });
  return secret;
}

async function readSecret(file: string, field: string): Promise<string | null> {
  try {
    const stored = JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>;
    const secret = stored[field];
    return typeof secret === "string" && secret.length >= MIN_FILE_SECRET_LENGTH ? secret : null;
  } catch {
    return null; // the caller's error says what to do; the file's content is never quoted (it is a secret)
  }
}
