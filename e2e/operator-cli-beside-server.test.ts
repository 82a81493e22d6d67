/**
 * The operator commands beside running servers, as README tells operators (issue 8): `mpay merchant create`
 * while the pay server runs gives a key the server takes at once, and the payment made with it survives a
 * restart; `messenger account create` while the messenger runs gives an account it signs in at once. On the
 * embedded default the commands work through the server's socket (the folder has one owner: a second server is
 * refused, naming the holder); on PostgreSQL they simply share DATABASE_URL.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshDatabase, systemBackends, type FreshDatabase } from "@mpay/service-kit/testing";
import { startPayProcess, type PayProcess } from "./support/pay-process.ts";
import { startMessengerProcess, type MessengerProcess } from "./support/messenger-process.ts";
import { api } from "./support/http.ts";
import { paymentBody } from "./support/pay-system.ts";

const MPAY = fileURLToPath(new URL("../scripts/mpay.mjs", import.meta.url));
const MESSENGER = fileURLToPath(new URL("../services/messenger/bin/messenger.mjs", import.meta.url));
const SLOW = 240_000; // server processes and CLI processes, each starting tsx (and, alone on a folder, PGlite)

/** A command as a process of its own, without blocking this one (the servers run beside it). */
function run(
  bin: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], {
      env: { PATH: process.env["PATH"] ?? "", LOG_LEVEL: "warn", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.once("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

describe.each(systemBackends())("operator commands beside running servers [%s]", (backend) => {
  let dir: string;
  let payDatabase: FreshDatabase;
  let messengerDatabase: FreshDatabase;
  let pay: PayProcess | undefined;
  let messenger: MessengerProcess | undefined;
  const payEnv = () => ({
    MPAY_DATA_DIR: join(dir, "pay"),
    MPAY_WORKERS: "off",
    ...(payDatabase.url ? { DATABASE_URL: payDatabase.url } : {}),
  });
  const messengerEnv = () => ({
    MESSENGER_DATA_DIR: join(dir, "messenger"),
    ...(messengerDatabase.url
      ? { MESSENGER_DATABASE_URL: messengerDatabase.url, MESSENGER_PAY_CLIENT_SECRET: "s".repeat(43) }
      : {}),
  });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "mpay-e2e-cli-beside-"));
    [payDatabase, messengerDatabase] = await Promise.all([
      freshDatabase(backend),
      freshDatabase(backend, "messenger_test"),
    ]);
  });
  afterAll(async () => {
    await Promise.allSettled([pay?.stop(), messenger?.stop()]);
    await Promise.allSettled([payDatabase?.drop(), messengerDatabase?.drop()]);
    await rm(dir, { recursive: true, force: true });
  });

  it(
    "mpay merchant create while the pay server runs: its key pays at once, and the payment outlives a restart",
    async () => {
      pay = await startPayProcess(payEnv());
      const created = await run(
        MPAY,
        ["merchant", "create", "--name", "Beside Shop", "--origin", "https://shop.example", "--json"],
        payEnv(),
      );
      expect(created.code, created.stderr).toBe(0);
      const merchant = JSON.parse(created.stdout) as { id: string; secretKey: string };

      const payment = await api<{ id: string; status: string }>(
        pay.url,
        "POST",
        "/v1/payments",
        merchant.secretKey,
        paymentBody({ orderId: "beside-1" }),
        { "idempotency-key": "beside-1" },
      );
      expect(payment.status, payment.raw).toBe(200);
      const listed = await run(MPAY, ["merchant", "list", "--json"], payEnv());
      expect(listed.code, listed.stderr).toBe(0);
      expect(JSON.parse(listed.stdout)).toEqual(
        expect.arrayContaining([expect.objectContaining({ id: merchant.id, name: "Beside Shop" })]),
      );

      await pay.stop();
      pay = await startPayProcess(payEnv());
      const again = await api<{ id: string }>(pay.url, "GET", `/v1/payments/${payment.body.id}`, merchant.secretKey);
      expect(again.status, again.raw).toBe(200);
      expect(again.body.id).toBe(payment.body.id);
    },
    SLOW,
  );

  // Only on PGlite (defined, not skipped, so that no run reports a skipped test): PostgreSQL has no folder owner.
  if (backend === "pglite") {
    it(
      "a second pay server on the same folder is refused, naming the folder and the server that holds it",
      async () => {
        const refused = await startPayProcess(payEnv()).then(
          async (second) => (await second.stop(), "started"),
          (error: Error) => error.message,
        );
        expect(refused).toContain(
          `the database folder ${join(dir, "pay", "db")} is in use by the pay server (pid ${pay!.child.pid}`,
        );
        expect(refused).toContain("Stop that process first");
        // The running server is untouched.
        expect((await fetch(`${pay!.url}/healthz`)).status).toBe(200);
      },
      SLOW,
    );
  }

  it(
    "messenger account create while the messenger runs: the account signs in at once",
    async () => {
      messenger = await startMessengerProcess(messengerEnv());
      const created = await run(
        MESSENGER,
        [
          "account",
          "create",
          "--phone",
          "+821055550042",
          "--name",
          "Beside User",
          "--password",
          "a long enough password",
          "--json",
        ],
        messengerEnv(),
      );
      expect(created.code, created.stderr).toBe(0);
      const session = await api<{ account: { phoneNumber: string } }>(messenger.url, "POST", "/api/sessions", null, {
        phoneNumber: "+821055550042",
        password: "a long enough password",
      });
      expect(session.status, session.raw).toBe(201);
      expect(session.body.account.phoneNumber).toBe("+821055550042");
    },
    SLOW,
  );
});
