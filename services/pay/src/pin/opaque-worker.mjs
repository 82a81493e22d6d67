// The OPAQUE server steps on a worker thread (pin/opaque-server.ts runs them here through piscina). Plain ESM
// JavaScript on purpose: a worker thread gets no TypeScript loader under vitest, tsx or `npm start` alike.
import { threadId } from "node:worker_threads";
import * as opaque from "@serenity-kit/opaque";

await opaque.ready;

/**
 * One task: `{ step: "startLogin", args }`, the library's own arguments and result. (`finishLogin` runs on the event
 * loop: cheaper there than a task, opaque-server.ts.)
 */
export default function run({ step, args }) {
  if (step === "startLogin") {
    const { serverLoginState, loginResponse } = opaque.server.startLogin(args);
    return { serverLoginState, loginResponse };
  }
  if (step === "ping") return { threadId };
  throw new Error(`unknown OPAQUE step ${String(step)}`);
}
