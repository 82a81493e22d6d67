/**
 * The demo network certifies the pay server's PIN-statement key, the way an operator does it with the card
 * network out of band (docs/network.md): `mpay statement-key show --json` prints the key, the demo root signs a
 * certificate of it, `mpay statement-key install` takes it on stdin. Run before the pay server starts: on the
 * embedded database only one process may hold the data folder. A marker in the pay data folder remembers what was
 * certified, so later starts skip the two CLI runs (with DATABASE_URL the CLI is asked every time: the database may
 * not be the one the marker saw).
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { signStatementKeyCertificate, verifyStatementKeyCertificate } from "@mpay/crypto";
import { ecPublicJwkSchema } from "@mpay/protocol";
import type { DemoRoot } from "./demo-root.ts";
import { readJson, writePublic } from "./files.ts";

const PAY_CLI = fileURLToPath(new URL("../../services/pay/src/operator/cli/main.ts", import.meta.url));
const DAY = 24 * 3600;
const VALID_FOR = 365 * DAY;
const RENEW_WITHIN = 30 * DAY;

/** What `mpay statement-key show --json` prints (services/pay/src/issuers/statement-signer.ts, StatementKeyStatus). */
const statusSchema = z.object({
  keys: z
    .array(
      z.object({
        kid: z.string(),
        jwk: ecPublicJwkSchema,
        certificates: z.array(z.object({ certificate: z.string() })),
      }),
    )
    .min(1),
  signingKid: z.string().nullable(),
});
const markerSchema = z.object({ rootKid: z.string(), kid: z.string(), acquirerId: z.string(), exp: z.number() });

export type StatementKeyOutcome = { done: "kept" | "certified"; kid: string } | { done: "unavailable"; reason: string };

function mpay(
  args: string[],
  env: NodeJS.ProcessEnv,
  input?: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", PAY_CLI, ...args], {
      env: { ...env, LOG_LEVEL: "error" },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.once("error", reject);
    child.once("exit", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? "");
  });
}

/** The CLI's own one-line reason (`mpay: <code>: <message>`), without its log lines. */
const reasonOf = (stderr: string) =>
  stderr
    .split("\n")
    .find((line) => line.startsWith("mpay: "))
    ?.slice(6) ?? "the mpay CLI failed";

export async function certifyDemoStatementKey(options: {
  env: NodeJS.ProcessEnv;
  payDataDir: string;
  demo: DemoRoot;
  acquirerId: string;
  nowSeconds: number;
}): Promise<StatementKeyOutcome> {
  const { env, demo, acquirerId, nowSeconds } = options;
  const markerFile = join(options.payDataDir, "demo-statement-key.json");
  const marker = markerSchema.safeParse(await readJson(markerFile));
  if (
    !env["DATABASE_URL"] &&
    marker.success &&
    marker.data.rootKid === demo.root.kid &&
    marker.data.acquirerId === acquirerId &&
    marker.data.exp - nowSeconds > RENEW_WITHIN
  ) {
    return { done: "kept", kid: marker.data.kid };
  }

  const shown = await mpay(["statement-key", "show", "--json"], env);
  let status: z.infer<typeof statusSchema>;
  try {
    status = statusSchema.parse(JSON.parse(shown.stdout.trim().split("\n").at(-1) ?? ""));
  } catch {
    return { done: "unavailable", reason: reasonOf(shown.stderr) };
  }
  const key = status.keys.at(-1)!;
  const remember = (exp: number) =>
    writePublic(markerFile, JSON.stringify({ rootKid: demo.root.kid, kid: key.kid, acquirerId, exp }) + "\n");
  for (const { certificate } of key.certificates) {
    const certified = await verifyStatementKeyCertificate(certificate, [demo.root], nowSeconds).catch(() => null);
    if (certified && certified.acquirerId === acquirerId && certified.exp - nowSeconds > RENEW_WITHIN) {
      await remember(certified.exp);
      return { done: "kept", kid: key.kid };
    }
  }
  const exp = nowSeconds + VALID_FOR;
  const certificate = await signStatementKeyCertificate(
    { acquirerId, jwk: key.jwk, kid: key.kid, nbf: nowSeconds - DAY, exp },
    demo.signer.privateKey,
    demo.signer.kid,
  );
  const installed = await mpay(["statement-key", "install", "--json"], env, certificate + "\n");
  if (installed.code !== 0) return { done: "unavailable", reason: reasonOf(installed.stderr) };
  await remember(exp);
  return { done: "certified", kid: key.kid };
}
