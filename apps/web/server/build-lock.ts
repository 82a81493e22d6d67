/**
 * One build of apps/web at a time on this machine: `npm start`s and test files started together would otherwise
 * empty and rewrite apps/web/dist under each other, and a server loading it meanwhile would read half a build.
 * The lock is a file created exclusively (`wx`) beside the build folder, holding its owner's pid; a lock whose
 * owner is gone (a killed build) is taken over.
 */
import { open, readFile, rm } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";

const WAIT_MS = 100;
const GIVE_UP_MS = 180_000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function ownerOf(lockFile: string): Promise<number | null> {
  const text = await readFile(lockFile, "utf8").catch(() => "");
  const pid = Number.parseInt(text, 10);
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

/** Runs `work` while holding the lock of `distDir`'s build; waits for another holder to finish first. */
export async function withBuildLock<T>(distDir: string, work: () => Promise<T>): Promise<T> {
  const lockFile = `${distDir}.lock`;
  const started = Date.now();
  for (;;) {
    try {
      const handle = await open(lockFile, "wx");
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const owner = await ownerOf(lockFile);
    // A file without a pid yet is being written by its owner this very moment: wait like for a live one.
    if (owner !== null && !alive(owner)) await rm(lockFile, { force: true });
    else if (Date.now() - started > GIVE_UP_MS)
      throw new Error(`${lockFile} is held by process ${owner}: another build of the web app did not finish`);
    else await sleep(WAIT_MS);
  }
  try {
    return await work();
  } finally {
    await rm(lockFile, { force: true });
  }
}
