/**
 * The dev provider's key file: `{ "format": "mpay-dev-keys/1", "current": 1, "keys": { "1": "<base64>" } }`,
 * each key 32 random bytes. Reads validate everything and name what is wrong without echoing the content
 * (a parse error's text can quote the file, which holds keys).
 *
 * Key bytes live in Buffers so close() can overwrite them; the JSON and base64 strings cannot be overwritten in
 * JavaScript and are left to the garbage collector. That is one reason this provider is for development only.
 */
import { randomBytes } from "node:crypto";
import { link, mkdir, open, readFile, rename, stat, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import { decodeCanonical, parseKeyVersion } from "../encoding.ts";
import { KeyProviderError } from "../provider.ts";

export const DEV_KEY_FILE_FORMAT = "mpay-dev-keys/1";
export const MASTER_KEY_BYTES = 32;

export interface DevKeys {
  current: number;
  keys: Map<number, Buffer>;
}

/** The keys in `path`, or null when the file does not exist. */
export async function readKeyFile(path: string): Promise<DevKeys | null> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if (isErrno(error, "ENOENT")) return null;
    throw error;
  }
  return parseKeyFile(path, text);
}

/**
 * Creates the file with one new key. Two processes starting at once on an empty data folder must not each make
 * a key: the file is written whole under a temporary name and then hard-linked to its name, which fails if the
 * name exists; the loser reads the winner's keys.
 */
export async function createKeyFile(path: string): Promise<DevKeys> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const created: DevKeys = { current: 1, keys: new Map([[1, randomBytes(MASTER_KEY_BYTES)]]) };
  const temp = await writeTemp(path, created);
  try {
    await link(temp, path);
    return created;
  } catch (error) {
    if (!isErrno(error, "EEXIST")) throw error;
    wipe(created);
    const existing = await readKeyFile(path);
    if (!existing) throw misconfigured(`dev key file ${path} vanished while it was being created`);
    return existing;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

/** Replaces the file atomically (temp file + rename), so a crash leaves either the old keys or the new ones. */
export async function writeKeyFile(path: string, keys: DevKeys): Promise<void> {
  const temp = await writeTemp(path, keys);
  try {
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}

/** A sentence for the start-up warning when others than the owner can read the file, else null. */
export async function looseModeNote(path: string): Promise<string | null> {
  if (process.platform === "win32") return null; // POSIX modes mean nothing there
  const mode = (await stat(path)).mode & 0o777;
  if ((mode & 0o077) === 0) return null;
  return `Its mode is ${mode.toString(8)}, readable by other users; run chmod 600 on it.`;
}

export function wipe(keys: DevKeys): void {
  for (const key of keys.keys.values()) key.fill(0);
  keys.keys.clear();
}

async function writeTemp(path: string, keys: DevKeys): Promise<string> {
  const temp = `${path}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
  // "wx" + 0600: a new file that only the owner can read, from the first byte on.
  const file = await open(temp, "wx", 0o600);
  try {
    await file.writeFile(serialize(keys));
    await file.sync(); // a power cut after the rename must not leave an empty key file
  } finally {
    await file.close();
  }
  return temp;
}

function serialize(keys: DevKeys): string {
  const entries = [...keys.keys].sort(([a], [b]) => a - b).map(([v, key]) => [String(v), key.toString("base64")]);
  return `${JSON.stringify({ format: DEV_KEY_FILE_FORMAT, current: keys.current, keys: Object.fromEntries(entries) }, null, 2)}\n`;
}

function parseKeyFile(path: string, text: string): DevKeys {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw misconfigured(`dev key file ${path} is not valid JSON`);
  }
  if (!isRecord(raw) || raw.format !== DEV_KEY_FILE_FORMAT || !isRecord(raw.keys)) {
    throw misconfigured(`dev key file ${path} is not in format ${DEV_KEY_FILE_FORMAT}`);
  }
  const keys = new Map<number, Buffer>();
  for (const [name, value] of Object.entries(raw.keys)) {
    const version = parseKeyVersion(name);
    const key = typeof value === "string" ? decodeCanonical(value, "base64") : null;
    if (version === null || key === null || key.length !== MASTER_KEY_BYTES) {
      wipe({ current: 0, keys });
      // The entry's name is not quoted: in a hand-edited file it could be a key.
      throw misconfigured(`dev key file ${path}: every key must be "<version>": <${MASTER_KEY_BYTES} bytes in base64>`);
    }
    keys.set(version, key);
  }
  const current = raw.current;
  if (typeof current !== "number" || !keys.has(current)) {
    wipe({ current: 0, keys });
    throw misconfigured(`dev key file ${path}: "current" does not name one of its keys`);
  }
  return { current, keys };
}

function misconfigured(message: string): KeyProviderError {
  return new KeyProviderError("provider_misconfigured", message);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isErrno(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}
