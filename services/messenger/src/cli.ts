/** `messenger`, the messenger's CLI, as a process (bin/messenger.mjs, `npm run messenger`): cli-commands.ts does the work. */
import { main } from "./cli-commands.ts";

main(process.argv.slice(2), {
  env: process.env,
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
}).then((code) => process.exit(code));
