/**
 * Webhook delivery across processes (DESIGN.md "Conventions": outbox written with the change, retries with
 * backoff, Standard Webhooks signatures): a real pay-server process sends to a local receiver that verifies with
 * the `standardwebhooks` npm package; the server is killed with SIGKILL between retries and a new process on the
 * same database finishes the work. Runs on PGlite in a data folder (always) and on PostgreSQL (DATABASE_URL).
 *
 * On PGlite only one process may open the data folder, so the test's own system (which authorizes payments, as
 * the payer's approval flow would) is opened only while no server process runs.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PaySystem } from "../services/pay/src/system.ts";
import { freshDatabase, systemBackends, type FreshDatabase } from "../services/pay/src/testing/databases.ts";
import type { PaymentView } from "../services/pay/src/payments/view.ts";
import { startPayProcess, type PayProcess } from "./support/pay-process.ts";
import { api, errorCode, waitFor } from "./support/http.ts";
import {
  authorizeThroughService,
  createMerchant,
  openTestSystem,
  paymentBody,
  type CreatedMerchant,
} from "./support/pay-system.ts";
import { startWebhookReceiver, type ReceivedMessage, type WebhookReceiver } from "./support/webhook-receiver.ts";

interface Delivery {
  id: string;
  eventId: string;
  endpointId: string;
  status: "pending" | "succeeded" | "failed";
  attempts: number;
  nextAttemptAt: string | null;
  lastStatusCode: number | null;
  lastError: string | null;
  deliveredAt: string | null;
}

interface Endpoint {
  id: string;
  url: string;
  /** The endpoint's own whsec_ signing secret: in the creation answer only. */
  secret: string;
}

/** The receiver fails this many messages before the crash. */
const FAILURES = 2;
/** A claimed delivery's lease (timeout + 20 s) is far longer than any retry delay these tests use. */
const LEASE_FLOOR_MS = 20_000;

for (const backend of systemBackends()) {
  describe(`webhook delivery across kill -9 and restart [${backend}]`, () => {
    let database: FreshDatabase;
    let dataDir: string;
    /** PostgreSQL: open for the whole file. PGlite: open only inside `withSystem`, while no server runs. */
    let sharedSystem: PaySystem | undefined;
    let crashMerchant: CreatedMerchant;
    let retryMerchant: CreatedMerchant;
    const running = new Set<PayProcess>();
    const receivers: WebhookReceiver[] = [];

    async function startServer(maxAttempts: number): Promise<PayProcess> {
      const server = await startPayProcess({
        ...(database.url ? { DATABASE_URL: database.url, MPAY_DB_POOL: "8" } : {}),
        MPAY_DATA_DIR: dataDir,
        MPAY_WEBHOOK_RETRY_BASE_MS: "300",
        MPAY_WEBHOOK_POLL_MS: "50",
        MPAY_WEBHOOK_MAX_ATTEMPTS: String(maxAttempts),
      });
      running.add(server);
      return server;
    }

    async function stopServer(server: PayProcess, how: "stop" | "kill9"): Promise<void> {
      await (how === "stop" ? server.stop() : server.kill9());
      running.delete(server);
    }

    async function withSystem<T>(work: (system: PaySystem) => Promise<T>): Promise<T> {
      if (sharedSystem) return work(sharedSystem);
      if (running.size > 0)
        throw new Error("a PGlite data folder must not be opened while a server process runs on it");
      const system = await openTestSystem({ databaseUrl: undefined, dataDir });
      try {
        return await work(system);
      } finally {
        await system.close();
      }
    }

    beforeAll(async () => {
      database = await freshDatabase(backend);
      dataDir = await mkdtemp(join(tmpdir(), `mpay-e2e-webhooks-${backend}-`));
      const system = await openTestSystem({ databaseUrl: database.url, dataDir });
      crashMerchant = await createMerchant(system, "Crash Shop");
      retryMerchant = await createMerchant(system, "Retry Shop");
      if (database.url) sharedSystem = system;
      else await system.close();
    });

    afterAll(async () => {
      await Promise.allSettled([...running].map((s) => s.kill9()));
      await Promise.allSettled(receivers.map((r) => r.close()));
      await sharedSystem?.close();
      await database?.drop();
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    });

    async function registerEndpoint(server: PayProcess, merchant: CreatedMerchant, url: string): Promise<Endpoint> {
      const answer = await api<Endpoint>(server.url, "POST", "/v1/webhook-endpoints", merchant.secretKey, { url });
      expect(answer.status, answer.raw).toBe(200);
      // The endpoint's own signing secret, in this answer only: no later answer carries it.
      expect(answer.body.secret).toMatch(/^whsec_/);
      const read = await api(server.url, "GET", `/v1/webhook-endpoints/${answer.body.id}`, merchant.secretKey);
      expect(read.raw).not.toContain("whsec_");
      return answer.body;
    }

    async function deliveries(
      server: PayProcess,
      merchant: CreatedMerchant,
      endpointId: string,
      status?: Delivery["status"],
    ): Promise<Delivery[]> {
      const query = status ? `?status=${status}` : "";
      const answer = await api<{ data: Delivery[] }>(
        server.url,
        "GET",
        `/v1/webhook-endpoints/${endpointId}/deliveries${query}`,
        merchant.secretKey,
      );
      expect(answer.status, answer.raw).toBe(200);
      return answer.body.data;
    }

    function expectNoSecrets(messages: ReceivedMessage[], merchant: CreatedMerchant, endpoint: Endpoint): void {
      for (const message of messages) {
        const seen = JSON.stringify(message.headers) + message.body;
        for (const secret of [merchant.secretKey, merchant.webhookSecret, endpoint.secret])
          expect(seen).not.toContain(secret);
        expect(seen).not.toMatch(/sk_(test|live)_|whsec_/);
      }
    }

    it("delivers every queued event after the server is killed between retries", async () => {
      let crashed = false;
      // 500 to the first FAILURES messages and 200 afterwards — but never 200 before the crash, so that however
      // the scheduler interleaves, a successful delivery cannot slip in before the kill.
      let secret = "";
      const receiver = await startWebhookReceiver(
        () => secret,
        (index) => (index < FAILURES || !crashed ? 500 : 200),
      );
      receivers.push(receiver);
      const key = crashMerchant.secretKey;

      let server = await startServer(6);
      const endpoint = await registerEndpoint(server, crashMerchant, receiver.url);
      secret = endpoint.secret;
      const created = await api<PaymentView>(
        server.url,
        "POST",
        "/v1/payments",
        key,
        paymentBody({ orderId: "crash-1" }),
        { "idempotency-key": "crash-create" },
      );
      expect(created.status, created.raw).toBe(200);
      const paymentId = created.body.id;
      if (!sharedSystem) {
        await stopServer(server, "stop");
        await withSystem((system) => authorizeThroughService(system, paymentId));
        server = await startServer(6);
      } else {
        await withSystem((system) => authorizeThroughService(system, paymentId));
      }
      const captured = await api<PaymentView>(
        server.url,
        "POST",
        `/v1/payments/${paymentId}/capture`,
        key,
        {},
        { "idempotency-key": "crash-capture" },
      );
      expect(captured.status, captured.raw).toBe(200);

      // Kill once both deliveries have failed at least once and their failures are recorded (each is waiting for
      // its retry, none is claimed under a lease): a crash there must lose nothing.
      const countOf = (id: string) => receiver.messages.filter((m) => m.webhookId === id).length;
      const queued = await waitFor("two recorded failed attempts", async () => {
        if (receiver.messages.length < FAILURES) return undefined;
        const rows = await deliveries(server, crashMerchant, endpoint.id);
        const settled = rows.every(
          (d) =>
            d.status === "pending" &&
            d.attempts >= 1 &&
            d.lastStatusCode === 500 &&
            d.attempts === countOf(d.id) &&
            d.nextAttemptAt !== null &&
            Date.parse(d.nextAttemptAt) - Date.now() < LEASE_FLOOR_MS / 2,
        );
        return rows.length === 2 && settled ? rows : undefined;
      });
      await stopServer(server, "kill9");
      expect(server.child.signalCode).toBe("SIGKILL");
      expect(receiver.accepted()).toEqual([]);
      const beforeCrash = receiver.messages.length;
      expect(beforeCrash).toBeGreaterThanOrEqual(FAILURES);
      // A dead process sends nothing: the retries wait in the database for the next process.
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(receiver.messages).toHaveLength(beforeCrash);
      crashed = true;

      const restarted = await startServer(6);
      const ids = queued.map((d) => d.id).sort();
      await waitFor("both events delivered after the restart", () => {
        const delivered = new Set(receiver.accepted().map((m) => m.webhookId));
        return ids.every((id) => delivered.has(id)) ? true : undefined;
      });
      const final = await waitFor("both deliveries recorded as succeeded", async () => {
        const rows = await deliveries(restarted, crashMerchant, endpoint.id, "succeeded");
        return rows.length === 2 ? rows : undefined;
      });

      // Every attempt, failed or not, verifies with the off-the-shelf library and the merchant's secret.
      for (const message of receiver.messages) expect(message.verified, `message ${message.index} verifies`).toBe(true);
      expect(
        receiver
          .accepted()
          .map((m) => m.type)
          .sort(),
      ).toEqual(["payment.authorized", "payment.captured"]);
      // The only webhook-ids are the two deliveries': a retry (even by another process) keeps its webhook-id.
      expect([...new Set(receiver.messages.map((m) => m.webhookId))].sort()).toEqual(ids);
      for (const delivery of final) {
        const attempts = receiver.messages.filter((m) => m.webhookId === delivery.id);
        expect(attempts.length).toBeGreaterThanOrEqual(2);
        expect(attempts.slice(0, -1).every((m) => m.answered === 500 && m.index < beforeCrash)).toBe(true);
        expect(attempts.at(-1)!.answered).toBe(200);
        expect(attempts.at(-1)!.index).toBeGreaterThanOrEqual(beforeCrash);
        // Each attempt sends the same event bytes; only webhook-timestamp and the signature change.
        expect(new Set(attempts.map((m) => m.body)).size).toBe(1);
        expect(attempts.every((m) => m.eventId === delivery.eventId)).toBe(true);
        expect(delivery).toMatchObject({
          status: "succeeded",
          lastStatusCode: 200,
          lastError: null,
          nextAttemptAt: null,
        });
        expect(delivery.attempts).toBe(attempts.length);
        expect(delivery.deliveredAt).not.toBeNull();
      }
      expectNoSecrets(receiver.messages, crashMerchant, endpoint);
      await stopServer(restarted, "stop");
    });

    it("marks a delivery failed after its last attempt, and re-sends it on request", async () => {
      let healthy = false;
      let secret = "";
      const receiver = await startWebhookReceiver(
        () => secret,
        () => (healthy ? 200 : 500),
      );
      receivers.push(receiver);
      const key = retryMerchant.secretKey;

      const server = await startServer(3);
      const endpoint = await registerEndpoint(server, retryMerchant, receiver.url);
      secret = endpoint.secret;
      // A cancel needs no payer: the payment.canceled event is the one to deliver.
      const created = await api<PaymentView>(
        server.url,
        "POST",
        "/v1/payments",
        key,
        paymentBody({ orderId: "retry-1" }),
        { "idempotency-key": "retry-create" },
      );
      expect(created.status, created.raw).toBe(200);
      const canceled = await api<PaymentView>(
        server.url,
        "POST",
        `/v1/payments/${created.body.id}/cancel`,
        key,
        {},
        { "idempotency-key": "retry-cancel" },
      );
      expect(canceled.status, canceled.raw).toBe(200);

      const [failed] = await waitFor("the delivery to fail for good", async () => {
        const rows = await deliveries(server, retryMerchant, endpoint.id, "failed");
        return rows.length === 1 ? rows : undefined;
      });
      expect(failed).toMatchObject({
        status: "failed",
        attempts: 3,
        lastStatusCode: 500,
        nextAttemptAt: null,
        deliveredAt: null,
      });
      expect(await deliveries(server, retryMerchant, endpoint.id, "pending")).toEqual([]);
      expect(receiver.messages.map((m) => [m.webhookId, m.type, m.answered, m.verified])).toEqual(
        Array.from({ length: 3 }, () => [failed!.id, "payment.canceled", 500, true]),
      );

      healthy = true;
      const retried = await api<Delivery>(server.url, "POST", `/v1/webhook-deliveries/${failed!.id}/retry`, key, {});
      expect(retried.status, retried.raw).toBe(200);
      expect(retried.body).toMatchObject({ id: failed!.id, status: "pending", attempts: 0 });

      const [succeeded] = await waitFor("the re-sent delivery to succeed", async () => {
        const rows = await deliveries(server, retryMerchant, endpoint.id, "succeeded");
        return rows.length === 1 ? rows : undefined;
      });
      expect(succeeded).toMatchObject({ id: failed!.id, status: "succeeded", attempts: 1, lastStatusCode: 200 });
      expect(receiver.accepted().map((m) => [m.webhookId, m.type, m.verified])).toEqual([
        [failed!.id, "payment.canceled", true],
      ]);
      expect(new Set(receiver.messages.map((m) => m.body)).size).toBe(1);

      const again = await api(server.url, "POST", `/v1/webhook-deliveries/${failed!.id}/retry`, key, {});
      expect(again.status, again.raw).toBe(409);
      expect(errorCode(again)).toBe("delivery_not_retryable");

      expectNoSecrets(receiver.messages, retryMerchant, endpoint);
      await stopServer(server, "stop");
    });
  });
}
