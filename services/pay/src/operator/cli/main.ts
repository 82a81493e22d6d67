/** `mpay`, the operator CLI, as a process (scripts/mpay.mjs, `npm run mpay`): cli.ts does the work. */
import { main } from "./cli.ts";
import { processIo } from "./io.ts";

main(process.argv.slice(2), processIo()).then((code) => process.exit(code));
