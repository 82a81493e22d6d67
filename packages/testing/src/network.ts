/**
 * A pay server and a real issuer host together, for tests of what reaches the card network: the issuer
 * simulator (services/issuer) in this process, over real HTTP on a free port, with its own fresh database, and
 * the pay server (openTestPay) pointed at it through the simulator connector. Both use the test card network: the
 * issuer its fixture certificates and the test roots, the pay server a PIN-statement key the test root certified.
 * It lives in @mpay/testing because it reaches into two services' source: the pay server itself reaches issuers
 * only over their protocol (issue 8).
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { Secret } from "@mpay/protocol";
import { loadConfig as loadIssuerConfig, type IssuerHostConfig } from "../../../services/issuer/src/config.ts";
import { startIssuerHost, type RunningIssuerHost } from "../../../services/issuer/src/server.ts";
import type { PayConfig } from "../../../services/pay/src/config.ts";
import { freshDatabase, type Backend } from "@mpay/service-kit/testing";
import { openTestPay, type TestPay } from "../../../services/pay/src/testing/system.ts";
import type { IssuerConnector } from "../../../services/pay/src/issuers/connector.ts";
import { SimulatorConnector } from "../../../services/pay/src/issuers/simulator/connector.ts";
import { fixtureHostConfig, testRootSigner } from "../../../services/issuer/src/testing/fixtures.ts";
import { certifyStatementKey } from "../../../services/pay/src/testing/statement-key.ts";

/** The issuer host's default enrollment limits, for tests that loosen them (`issuerConfig.enrollmentLimits`). */
export { DEFAULT_ENROLLMENT_LIMITS } from "../../../services/issuer/src/config.ts";

export interface TestNetwork {
  pay: TestPay;
  issuer: RunningIssuerHost;
  issuerUrl: string;
  acquirerSecret: string;
  /** Issuer log lines, for the no-secrets checks. */
  issuerLogLines: string[];
  /** The newest one-time code the simulator "sent" to `phone`. */
  latestCode(phone: string): Promise<string>;
  close(): Promise<void>;
}

export interface TestNetworkOptions {
  issuers?: string[];
  pay?: Partial<PayConfig>;
  issuerConfig?: Partial<IssuerHostConfig>;
  /** Wraps the pay server's connector (to lose answers, record requests…); default: the simulator connector as is. */
  connector?: (real: IssuerConnector) => IssuerConnector;
}

export async function openTestNetwork(backend: Backend, options: TestNetworkOptions = {}): Promise<TestNetwork> {
  const database = await freshDatabase(backend, "issuer_test");
  const dataDir = await mkdtemp(join(tmpdir(), "mpay-issuer-"));
  const acquirerSecret = randomBytes(32).toString("base64url");
  let pay: TestPay | undefined;
  const base = loadIssuerConfig({});
  const wanted = options.issuers ?? ["sampo"];
  const issuerLogLines: string[] = [];
  const issuer = await startIssuerHost(
    {
      ...base,
      port: 0,
      databaseUrl: database.url,
      dataDir,
      persistentEmbeddedDatabases: false,
      dbPoolSize: 2,
      ...fixtureHostConfig(wanted),
      acquirerSecret: new Secret(acquirerSecret),
      testInbox: true,
      ...options.issuerConfig,
    },
    pino({ level: "info" }, { write: (line: string) => void issuerLogLines.push(line) }),
  );
  try {
    const settings = {
      url: issuer.url,
      acquirerSecret,
      acquirerSecretFile: join(dataDir, "none.json"),
      timeoutMs: 5_000,
    };
    const real = new SimulatorConnector({ baseUrl: settings.url, acquirerSecret, timeoutMs: settings.timeoutMs });
    const auditWitness = { url: `${issuer.url}/issuers/${wanted[0] ?? "sampo"}/audit-heads` };
    pay = await openTestPay(
      backend,
      { auditWitness, ...options.pay, issuers: settings },
      options.connector ? { issuerConnector: options.connector(real) } : {},
    );
    await certifyStatementKey(pay.system, await testRootSigner());
  } catch (error) {
    await issuer.stop();
    throw error;
  }
  const opened = pay;
  return {
    pay: opened,
    issuer,
    issuerUrl: issuer.url,
    acquirerSecret,
    issuerLogLines,
    async latestCode(phone) {
      const response = await fetch(`${issuer.url}/test-inbox?phone=${encodeURIComponent(phone)}`);
      const inbox = (await response.json()) as { messages: Array<{ code: string }> };
      const code = inbox.messages[0]?.code;
      if (!code) throw new Error(`no code was sent to ${phone}`);
      return code;
    },
    async close() {
      await opened.close();
      await issuer.stop();
      await database.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
