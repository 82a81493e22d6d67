#!/usr/bin/env node
// `npx mpay …`: runs the operator CLI (TypeScript, through tsx) from anywhere in the repository.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const cli = fileURLToPath(new URL("../services/pay/src/operator/cli/main.ts", import.meta.url));
const result = spawnSync(process.execPath, ["--import", "tsx", cli, ...process.argv.slice(2)], { stdio: "inherit" });
process.exit(result.status ?? 1);
