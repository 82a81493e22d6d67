/**
 * Preloaded into a pay-server process by `npm run bench -- <scenario> --cpu-prof DIR` (through NODE_OPTIONS="--import
 * <this file>", since Node 20 refuses --cpu-prof in NODE_OPTIONS). Records a V8 CPU profile of exactly a timed
 * run: one SIGUSR2 starts it, the next stops it and writes $MPAY_BENCH_CPU_PROF_DIR/pay-<pid>-<n>.cpuprofile, n
 * counting the profiles of this process (a scenario with two timed phases, like `auth`, writes two).
 * An inspector session on the process's own thread answers synchronously, so no await is needed.
 */
import { Session } from "node:inspector";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.env["MPAY_BENCH_CPU_PROF_DIR"];
if (dir) {
  const session = new Session();
  session.connect();
  session.post("Profiler.enable");
  session.post("Profiler.setSamplingInterval", { interval: 500 });
  let running = false;
  let written = 0;
  process.on("SIGUSR2", () => {
    if (!running) {
      running = true;
      session.post("Profiler.start");
      return;
    }
    running = false;
    session.post("Profiler.stop", (error, result) => {
      if (error || !result) process.stderr.write(`cpu profile failed: ${error ? error.message : "no profile"}\n`);
      else writeFileSync(join(dir, `pay-${process.pid}-${++written}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
