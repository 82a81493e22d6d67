/**
 * A real issuer host for a test: a fresh database (PGlite in memory, or a new PostgreSQL database with a schema per
 * issuer), a temporary data folder, real HTTP on a free port, a clock the test can move, the test network's fixture
 * certificates and roots, a pay-server PIN-statement key certified by the test root, and every log line kept for
 * the no-secrets checks.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { calculateJwkThumbprint, CompactSign, exportJWK, generateKeyPair } from "jose";
import pino from "pino";
import { signStatementKeyCertificate } from "@mpay/crypto";
import {
  JOSE_TYPES,
  Secret,
  STATEMENT_KEY_CERTIFICATE_HEADER,
  type IssuerCertificate,
  type PinStatement,
} from "@mpay/protocol";
import { freshDatabase, type Backend, type FreshDatabase } from "@mpay/service-kit/testing";
import { loadConfig, type IssuerHostConfig } from "../config.ts";
import { startIssuerHost, type RunningIssuerHost } from "../server.ts";
import { fixtureHostConfig, testRootSigner } from "./fixtures.ts";

export { testBackends, type Backend } from "@mpay/service-kit/testing";

export const PASSKEY_ORIGIN = "http://localhost:4300";
export const PASSKEY_RP_ID = "localhost";

import { TestClock } from "@mpay/service-kit";
export { TestClock };

export interface Answer<T = Record<string, unknown>> {
  status: number;
  body: T;
  text: string;
  headers: Headers;
}

export interface TestHost {
  readonly server: RunningIssuerHost;
  readonly url: string;
  readonly config: IssuerHostConfig;
  readonly acquirerSecret: string;
  readonly operatorToken: string;
  readonly clock: TestClock;
  readonly logLines: string[];
  certificate(issuerId: string): IssuerCertificate;
  /** The test root's certificate of the pay server's test key, as every PIN statement of `pinStatement` carries it. */
  readonly statementKeyCertificate: string;
  /** A PIN statement signed by the pay server's test key (fields default to a valid statement). */
  pinStatement(
    claims: Omit<PinStatement, "iss" | "method" | "iat" | "exp" | "challengeId"> & Partial<PinStatement>,
  ): Promise<string>;
  /** A request with the acquirer secret (or `secret`, or none with `null`). */
  acquirer<T = Record<string, unknown>>(
    method: "GET" | "POST",
    path: string,
    body?: unknown,
    secret?: string | null,
  ): Promise<Answer<T>>;
  operator<T = Record<string, unknown>>(path: string): Promise<Answer<T>>;
  get<T = Record<string, unknown>>(path: string): Promise<Answer<T>>;
  /** Stops the host and starts it again on the same databases, data folder and port. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export interface TestHostOptions {
  issuers?: string[];
  /** Keep PGlite in the data folder (needed to restart on the same databases); default in memory. */
  persistent?: boolean;
  overrides?: Partial<IssuerHostConfig>;
}

async function answer<T>(response: Response): Promise<Answer<T>> {
  const text = await response.text();
  let body: unknown = undefined;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, body: body as T, text, headers: response.headers };
}

export async function openTestHost(backend: Backend, options: TestHostOptions = {}): Promise<TestHost> {
  const database: FreshDatabase = await freshDatabase(backend, "issuer_test");
  const dataDir = await mkdtemp(join(tmpdir(), "issuer-test-"));
  const acquirerSecret = randomBytes(32).toString("base64url");
  const operatorToken = randomBytes(32).toString("base64url");
  const pay = await generateKeyPair("ES256", { extractable: true });
  const { x, y } = await exportJWK(pay.publicKey);
  const payJwk = { kty: "EC" as const, crv: "P-256" as const, x: x!, y: y! };
  const payKid = await calculateJwkThumbprint(payJwk);
  const clock = new TestClock();
  const root = await testRootSigner();
  const statementKeyCertificate = await signStatementKeyCertificate(
    {
      acquirerId: "mpay",
      jwk: payJwk,
      kid: payKid,
      nbf: clock.seconds() - 3600,
      exp: clock.seconds() + 30 * 24 * 3600,
    },
    root.privateKey,
    root.kid,
  );
  const base = loadConfig({});
  const config: IssuerHostConfig = {
    ...base,
    port: 0,
    databaseUrl: database.url,
    dataDir,
    persistentEmbeddedDatabases: options.persistent ?? false,
    dbPoolSize: 2,
    ...fixtureHostConfig(options.issuers ?? ["sampo"]),
    acquirerSecret: new Secret(acquirerSecret),
    operatorToken: new Secret(operatorToken),
    passkeys: { rpId: PASSKEY_RP_ID, origins: [PASSKEY_ORIGIN] },
    testInbox: true,
    ...options.overrides,
  };
  const logLines: string[] = [];
  const log = pino({ level: "debug" }, { write: (line: string) => void logLines.push(line) });
  const hostOptions = { now: clock.now };
  let server = await startIssuerHost(config, log, hostOptions);
  const url = server.url;
  config.port = Number(new URL(url).port);
  const send = async <T>(
    method: string,
    path: string,
    body: unknown,
    authorization: string | null,
  ): Promise<Answer<T>> => {
    const headers: Record<string, string> = {};
    if (authorization !== null) headers["authorization"] = authorization;
    if (body !== undefined) headers["content-type"] = "application/json";
    return answer<T>(
      await fetch(`${url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }),
    );
  };
  return {
    get server() {
      return server;
    },
    url,
    config,
    acquirerSecret,
    operatorToken,
    clock,
    logLines,
    statementKeyCertificate,
    certificate(issuerId) {
      const issuer = server.host.get(issuerId);
      return issuer.keys.certificate;
    },
    pinStatement(claims) {
      const iat = claims.iat ?? clock.seconds();
      const statement: PinStatement = {
        iss: "mpay-pay",
        method: "pin",
        challengeId: "chl_test",
        iat,
        exp: iat + 120,
        ...claims,
      };
      return new CompactSign(new TextEncoder().encode(JSON.stringify(statement)))
        .setProtectedHeader({
          alg: "ES256",
          typ: JOSE_TYPES.pinStatement,
          kid: payKid,
          [STATEMENT_KEY_CERTIFICATE_HEADER]: statementKeyCertificate,
        })
        .sign(pay.privateKey);
    },
    acquirer(method, path, body, secret) {
      return send(method, path, body, secret === null ? null : `Bearer ${secret ?? acquirerSecret}`);
    },
    operator(path) {
      return send("GET", path, undefined, `Bearer ${operatorToken}`);
    },
    get(path) {
      return send("GET", path, undefined, null);
    },
    async restart() {
      await server.stop();
      server = await startIssuerHost(config, log, hostOptions);
    },
    async close() {
      await server.stop();
      await database.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
