/** Files of the demo network: JSON in, JSON out, private ones in a 0700 folder with mode 0600, written atomically. */
import { chmod, mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { dirname } from "node:path";

/** The parsed JSON of `file`, or undefined when there is no such file. A file that is not JSON is an error. */
export async function readJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new Error(`${file} is not JSON; move it away and start again`);
  }
}

async function write(file: string, text: string, mode: number, folderMode: number): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: folderMode });
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, text, { mode });
  await chmod(temporary, mode); // writeFile's mode is masked by the umask
  await rename(temporary, file);
}

/** A private key or secret: mode 0600 in a folder only its owner enters. */
export function writePrivateJson(file: string, value: unknown): Promise<void> {
  return write(file, JSON.stringify(value, null, 2) + "\n", 0o600, 0o700);
}

export function writePublic(file: string, text: string): Promise<void> {
  return write(file, text, 0o644, 0o755);
}

/** Tightens a private file that someone loosened (a copy, an editor) back to 0600. */
export async function keepPrivate(file: string): Promise<void> {
  if (((await stat(file)).mode & 0o077) !== 0) await chmod(file, 0o600);
}
