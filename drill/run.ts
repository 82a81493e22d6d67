/**
 * `npm run drill -- <name> [options]`: fault and flood drills against the real system (issue 12). Progress goes to
 * stderr, the report to stdout. Exit code 1 when an invariant broke or the drill could not run, 2 for bad usage.
 */
import { UsageError, type Drill } from "./scenario.ts";

/** Each drill lives in drill/<name>.ts and is loaded only when asked for. */
const DRILLS: Record<string, () => Promise<Drill>> = {
  fuzz: async () => (await import("./fuzz.ts")).fuzzDrill,
  crash: async () => (await import("./crash.ts")).crashDrill,
  failover: async () => (await import("./failover.ts")).failoverDrill,
  restore: async () => (await import("./restore.ts")).restoreDrill,
  soak: async () => (await import("./soak.ts")).soakDrill,
};

function usage(): string {
  const names = Object.keys(DRILLS);
  return [
    "Usage: npm run drill -- <name> [options]",
    "",
    "Drills:",
    ...(names.length === 0 ? ["  (none yet)"] : names.map((n) => `  ${n}`)),
    "",
    "npm run drill -- <name> --help   that drill's options",
  ].join("\n");
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "-h" || name === "--help") {
    process.stdout.write(`${usage()}\n`);
    return name === undefined ? 2 : 0;
  }
  const load = DRILLS[name];
  if (load === undefined) {
    process.stderr.write(`unknown drill ${JSON.stringify(name)}\n\n${usage()}\n`);
    return 2;
  }
  const drill = await load();
  if (rest.includes("-h") || rest.includes("--help")) {
    process.stdout.write(`npm run drill -- ${name} [options]: ${drill.summary}\n\n${drill.usage}\n`);
    return 0;
  }
  const result = await drill
    .run(rest, (line) => process.stderr.write(`[drill] ${line}\n`))
    .catch((error: unknown) => {
      if (!(error instanceof UsageError)) throw error;
      // A bad option: its one line and the drill's options, no stack.
      process.stderr.write(`drill ${name}: ${error.message}\n\nnpm run drill -- ${name} [options]:\n${drill.usage}\n`);
      return null;
    });
  if (result === null) return 2;
  process.stdout.write(`${result.report}\n\nreproduce: ${result.command}\n`);
  return result.ok ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`drill failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
