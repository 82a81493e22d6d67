/**
 * `npx tsx bench/profile-summary.ts <file.cpuprofile | folder>`: where a V8 CPU profile (from `npm run bench --
 * api --cpu-prof DIR`) spent its time, by package (node_modules/<name>, the project's own folders, Node's
 * internals) and by function, self time only. Total is over the process's whole life (setup included).
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export function bucketOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith("(") ? functionName : "(native)";
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm?.[1]) return nm[1];
  if (url.startsWith("node:")) return "node:" + url.slice(5).split("/")[0];
  const own = /\/(services\/[^/]+\/src\/[^/]+|packages\/[^/]+|bench|e2e)\//.exec(url);
  if (own?.[1]) return own[1];
  return url;
}

async function files(target: string): Promise<string[]> {
  if ((await stat(target)).isDirectory()) {
    return (await readdir(target)).filter((f) => f.endsWith(".cpuprofile")).map((f) => join(target, f));
  }
  return [target];
}

export function summarizeProfile(profile: CpuProfile): {
  totalMs: number;
  byBucket: Map<string, number>;
  byFunction: Map<string, number>;
} {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const byBucket = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let totalMs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i] as number);
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    if (!node) continue;
    totalMs += ms;
    const { url, functionName, lineNumber } = node.callFrame;
    const bucket = bucketOf(url, functionName);
    byBucket.set(bucket, (byBucket.get(bucket) ?? 0) + ms);
    const fn = `${functionName || "(anonymous)"} ${bucket}${url ? `:${lineNumber + 1}` : ""}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + ms);
  }
  return { totalMs, byBucket, byFunction };
}

const top = (m: Map<string, number>, n: number) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, n);

if (import.meta.url === `file://${process.argv[1]}`) {
  const target = process.argv[2];
  if (!target) {
    process.stderr.write("usage: npx tsx bench/profile-summary.ts <file.cpuprofile | folder>\n");
    process.exit(2);
  }
  for (const file of await files(target)) {
    const profile = JSON.parse(await readFile(file, "utf8")) as CpuProfile;
    const { totalMs, byBucket, byFunction } = summarizeProfile(profile);
    const idle = byBucket.get("(idle)") ?? 0;
    const busy = totalMs - idle;
    process.stdout.write(
      `${file}\n  wall ${(totalMs / 1000).toFixed(1)} s, busy ${(busy / 1000).toFixed(1)} s (idle ${(idle / 1000).toFixed(1)} s)\n  by package (share of busy):\n`,
    );
    for (const [k, v] of top(byBucket, 25))
      if (k !== "(idle)") process.stdout.write(`    ${((100 * v) / busy).toFixed(1).padStart(5)} %  ${k}\n`);
    process.stdout.write("  by function (self):\n");
    for (const [k, v] of top(byFunction, 30))
      if (!k.startsWith("(idle)")) process.stdout.write(`    ${((100 * v) / busy).toFixed(1).padStart(5)} %  ${k}\n`);
  }
}
