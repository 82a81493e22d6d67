/**
 * An issuer that commits an authorization and dies before it answers (kill -9 between the two, by the
 * simulator's ISSUER_TEST_KILL_AFTER_COMMIT switch), then restarts (issue 4, test bullet "An issuer killed with
 * kill -9 …"). The pay server never guesses: while the issuer is down the payment stays `requires_approval` and
 * nothing makes it `authorized`; once the issuer is back, the reconciler alone settles it from the issuer's books
 * — exactly one authorization, the issuer's — and the same JWE sent again gets the first decision.
 *
 * The issuer host runs as its own process (so it can be killed); the pay server runs in this process on a real
 * socket, with a connector that records the JWE it forwards (as a compromised relay could: it is useless to it).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../services/pay/src/db/client.ts";
import type { AuthorizationRequest } from "@mpay/protocol";
import { isPayApiError, PayClient, Wallet } from "@mpay/wallet";
import { FileKeyStore } from "@mpay/wallet/node";
import { freshDatabase, systemBackends, type FreshDatabase } from "../services/pay/src/testing/databases.ts";
import { call, openTestPay, paymentBody, type TestPay } from "../services/pay/src/testing/system.ts";
import { SimulatorConnector } from "../services/pay/src/issuers/simulator/connector.ts";
import type { IssuerConnector } from "../services/pay/src/issuers/connector.ts";
import { freePorts } from "./support/messenger-process.ts";
import { startIssuerProcess, type IssuerProcess } from "./support/issuer-process.ts";
import { fixtureIssuerEnv, testRootSigner } from "../services/issuer/src/testing/fixtures.ts";
import { certifyStatementKey } from "../services/pay/src/testing/statement-key.ts";
import { TEST_NETWORK_ROOTS } from "@mpay/testing/network-roots";

const PIN = "739104";
const CARD = { pan: "4111000000000016", expiry: "12/31", cvc: "806", phone: "+821055510001" };

describe.each(systemBackends())("an issuer killed between its commit and its answer [%s]", (backend) => {
  let dir: string;
  let issuerDatabase: FreshDatabase;
  let pay: TestPay;
  let issuer: IssuerProcess | undefined;
  let issuerEnv: Record<string, string>;
  const forwarded: AuthorizationRequest[] = [];
  let connector: SimulatorConnector;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "mpay-issuer-crash-"));
    issuerDatabase = await freshDatabase(backend);
    const [issuerPort] = (await freePorts(1)) as [number];
    const issuerUrl = `http://127.0.0.1:${issuerPort}`;
    const acquirerSecret = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
    connector = new SimulatorConnector({ baseUrl: issuerUrl, acquirerSecret, timeoutMs: 5_000 });
    // The relay keeps a copy of what it forwards; everything else is the simulator connector as configured.
    const recording: IssuerConnector = {
      name: connector.name,
      listIssuers: () => connector.listIssuers(),
      enroll: (...a) => connector.enroll(...a),
      verifyEnrollment: (...a) => connector.verifyEnrollment(...a),
      authorize: (issuerId, request) => {
        forwarded.push(request);
        return connector.authorize(issuerId, request);
      },
      capture: (...a) => connector.capture(...a),
      void: (...a) => connector.void(...a),
      refund: (...a) => connector.refund(...a),
      inquire: (...a) => connector.inquire(...a),
      unbindDevice: (...a) => connector.unbindDevice(...a),
      createRecurringToken: (...a) => connector.createRecurringToken(...a),
      revokeRecurringToken: (...a) => connector.revokeRecurringToken(...a),
    };
    pay = await openTestPay(backend, {}, { issuerConnector: recording });
    await certifyStatementKey(pay.system, await testRootSigner());
    await pay.app.listen({ host: "127.0.0.1", port: 0 });
    issuerEnv = {
      ISSUER_PORT: String(issuerPort),
      ISSUER_DATA_DIR: join(dir, "issuer"),
      ...(issuerDatabase.url ? { ISSUER_DATABASE_URL: issuerDatabase.url } : {}),
      ...fixtureIssuerEnv(["sampo"]),
      ISSUER_ACQUIRER_SECRET: acquirerSecret,
    };
    issuer = await startIssuerProcess(issuerEnv);
  });
  afterAll(async () => {
    await issuer?.stop();
    await pay?.close();
    await issuerDatabase?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("settles from the issuer's books after it restarts: one authorization, the first decision for a replay", async () => {
    const session = await pay.system.payers.openSession({
      subject: "acct_crash",
      displayName: "Kim Minji",
      phoneNumber: null,
    });
    const baseUrl = `http://127.0.0.1:${(pay.app.server.address() as { port: number }).port}`;
    const wallet = new Wallet({
      trustedRoots: TEST_NETWORK_ROOTS,
      keyStore: new FileKeyStore(join(dir, "phone.json"), FileKeyStore.newDeviceSecret()),
      client: new PayClient({ baseUrl, sessionToken: session.sessionToken.peek() }),
      keyStretching: "memory-constrained",
    });
    await wallet.bindThisDevice("Phone");
    await wallet.setPin(PIN);
    const card = await (await wallet.startCardEnrollment(CARD)).complete(await issuer!.latestCode(CARD.phone));

    // The issuer now dies after committing its next decision, before answering it.
    await issuer!.stop();
    issuer = await startIssuerProcess({ ...issuerEnv, ISSUER_TEST_KILL_AFTER_COMMIT: "on" });
    const payment = await call<{ id: string }>(
      pay.app,
      "POST",
      "/v1/payments",
      pay.merchant.secretKey,
      paymentBody({ amount: 23000 }),
    );
    const lost = await wallet
      .approvePayment(payment.body.id, { cardId: card.id, pin: PIN, confirm: async () => true })
      .then(
        () => null,
        (error: unknown) => error,
      );
    expect(isPayApiError(lost, "issuer_unavailable")).toBe(true);
    await new Promise<void>((resolve) =>
      issuer!.child.exitCode !== null || issuer!.child.signalCode !== null
        ? resolve()
        : issuer!.child.once("exit", () => resolve()),
    );
    expect(issuer!.child.signalCode).toBe("SIGKILL");

    // Down: nothing is decided here, however often the reconciler runs.
    const later = () => new Date(Date.now() + 3600_000);
    expect(await pay.system.reconciler.runOnce(50, later())).toBe(0);
    const read = async () =>
      (
        await call<{ status: string; issuerAuthorizationCode?: string }>(
          pay.app,
          "GET",
          `/v1/payments/${payment.body.id}`,
          pay.merchant.secretKey,
        )
      ).body;
    expect((await read()).status).toBe("requires_approval");

    // Back up: the reconciler alone settles it, from what the issuer committed.
    issuer = await startIssuerProcess(issuerEnv);
    expect(await pay.system.reconciler.runOnce(50, later())).toBe(1);
    const books = await connector.inquire("sampo", payment.body.id);
    expect(books).toMatchObject({ status: "approved", amount: 23000 });
    expect((await read()).status).toBe("authorized");
    expect(books?.decision).toMatchObject({ decision: "approved" });
    const authorizationCode = books?.decision.decision === "approved" ? books.decision.authorizationCode : "";
    const [row] = await queryRows<{ code: string; reaches: boolean }>(
      pay.system.database.db,
      sql`select issuer_authorization_code as code, reaches_issuer as reaches from payments where id = ${payment.body.id}`,
    );
    expect(row).toEqual({ code: authorizationCode, reaches: true });
    // Running it again changes nothing.
    expect(await pay.system.reconciler.runOnce(50, later())).toBe(0);

    // The same JWE again (a replay, or the pay server's own retry) gets the first decision, not a second hold.
    expect(forwarded).toHaveLength(1);
    const replay = await connector.authorize("sampo", forwarded[0]!);
    expect(replay).toMatchObject({ decision: "approved", authorizationCode });
    expect(await connector.inquire("sampo", payment.body.id)).toMatchObject({
      status: "approved",
      amount: 23000,
      amountCaptured: 0,
    });

    // And the books move on as usual: the capture reaches the issuer.
    const captured = await call<{ status: string }>(
      pay.app,
      "POST",
      `/v1/payments/${payment.body.id}/capture`,
      pay.merchant.secretKey,
    );
    expect(captured.body.status).toBe("captured");
    expect(await connector.inquire("sampo", payment.body.id)).toMatchObject({
      status: "captured",
      amountCaptured: 23000,
    });
  });
});
