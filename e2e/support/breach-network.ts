/**
 * The in-process network of the breach drills: a real issuer host over HTTP (services/issuer, its own fresh
 * database) and a pay server (openTestPay) listening on a loopback port, as services/pay/src/testing/network.ts
 * builds them, with one seam more: the pay server reaches the issuer through a `TamperingConnector`, which records
 * every call it forwards and lets a drill alter an authorization on its way — a compromised pay server, played
 * with the pay server's own code. Payers are made through the wallet SDK over HTTP; only the messenger sign-in is
 * skipped (a session is opened as the callback would; sign-in is tested in e2e/payer-signin.test.ts).
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { Secret, type AuthorizationRequest } from "@mpay/protocol";
import { PayClient, Wallet, DEVICE_KEY_RECORD, type Card, type KeyStore } from "@mpay/wallet";
import { FileKeyStore } from "@mpay/wallet/node";
import { loadConfig as loadIssuerConfig, type IssuerHostConfig } from "../../services/issuer/src/config.ts";
import { startIssuerHost, type RunningIssuerHost } from "../../services/issuer/src/server.ts";
import type { IssuerConnector } from "../../services/pay/src/issuers/connector.ts";
import { SimulatorConnector } from "../../services/pay/src/issuers/simulator/connector.ts";
import { freshDatabase, type Backend } from "@mpay/service-kit/testing";
import {
  openTestPay,
  paymentBody,
  call,
  type TestPay,
  type TestPayOptions,
} from "../../services/pay/src/testing/system.ts";
import type { PayConfig } from "../../services/pay/src/config.ts";
import { fixtureHostConfig, testRootSigner } from "../../services/issuer/src/testing/fixtures.ts";
import { certifyStatementKey } from "../../services/pay/src/testing/statement-key.ts";
import { TEST_NETWORK_ROOTS } from "@mpay/testing/network-roots";

export const PIN = "384917";

/** Test cards of the simulator (services/issuer/README.md) that approve. */
export const CARDS = {
  sampo: { pan: "4111000000000016", expiry: "12/31", cvc: "806", phone: "+821055510001", issuerId: "sampo" },
  sampoMaster: { pan: "5111000000000021", expiry: "12/31", cvc: "932", phone: "+821055510002", issuerId: "sampo" },
  sampoLocal: { pan: "9411000000000038", expiry: "12/31", cvc: "980", phone: "+821055510003", issuerId: "sampo" },
  kstar: { pan: "4222000000000012", expiry: "12/31", cvc: "742", phone: "+821055520001", issuerId: "kstar" },
  kstarMaster: { pan: "5222000000000027", expiry: "12/31", cvc: "491", phone: "+821055520002", issuerId: "kstar" },
} as const;
export type TestCardData = (typeof CARDS)[keyof typeof CARDS];

/**
 * Forwards to the real connector, recording what it sends. `tamper` rewrites an authorization request before it
 * leaves (the compromised pay server); `calls` shows what reached the issuer.
 */
export class TamperingConnector implements IssuerConnector {
  readonly name = "tampering";
  readonly calls: Array<{ method: string; issuerId: string }> = [];
  /** The authorization requests as forwarded (after any tampering). */
  readonly authorizations: AuthorizationRequest[] = [];
  tamper: ((request: AuthorizationRequest) => AuthorizationRequest | Promise<AuthorizationRequest>) | undefined;

  constructor(private readonly inner: IssuerConnector) {}

  #note(method: string, issuerId: string): void {
    this.calls.push({ method, issuerId });
  }
  listIssuers() {
    return this.inner.listIssuers();
  }
  enroll(issuerId: string, input: { enrollment: string; payerRef: string }) {
    this.#note("enroll", issuerId);
    return this.inner.enroll(issuerId, input);
  }
  verifyEnrollment(issuerId: string, enrollmentId: string, code: string) {
    this.#note("verifyEnrollment", issuerId);
    return this.inner.verifyEnrollment(issuerId, enrollmentId, code);
  }
  async authorize(issuerId: string, request: AuthorizationRequest) {
    this.#note("authorize", issuerId);
    const sent = this.tamper ? await this.tamper(structuredClone(request)) : request;
    this.authorizations.push(sent);
    return this.inner.authorize(issuerId, sent);
  }
  capture(issuerId: string, paymentId: string, input: { operationId: string; amount: number }) {
    this.#note("capture", issuerId);
    return this.inner.capture(issuerId, paymentId, input);
  }
  void(issuerId: string, paymentId: string, input: { operationId: string }) {
    this.#note("void", issuerId);
    return this.inner.void(issuerId, paymentId, input);
  }
  refund(issuerId: string, paymentId: string, input: { operationId: string; amount: number }) {
    this.#note("refund", issuerId);
    return this.inner.refund(issuerId, paymentId, input);
  }
  inquire(issuerId: string, paymentId: string) {
    return this.inner.inquire(issuerId, paymentId);
  }
  unbindDevice(issuerId: string, deviceKid: string) {
    this.#note("unbindDevice", issuerId);
    return this.inner.unbindDevice(issuerId, deviceKid);
  }
  createRecurringToken(issuerId: string, input: { mandate: string; payerRef: string }) {
    this.#note("createRecurringToken", issuerId);
    return this.inner.createRecurringToken(issuerId, input);
  }
  revokeRecurringToken(issuerId: string, token: string) {
    this.#note("revokeRecurringToken", issuerId);
    return this.inner.revokeRecurringToken(issuerId, token);
  }
}

export interface BreachPayer {
  wallet: Wallet;
  client: PayClient;
  payerId: string;
  sessionToken: string;
  /** The FileKeyStore file and its device secret: everything a thief of this device copies. */
  storePath: string;
  deviceSecret: Uint8Array;
  /** The private scalar of the device key (planted by the test, so it can also be looked for). */
  deviceKeyD: string;
}

export interface BreachNetwork {
  pay: TestPay;
  issuer: RunningIssuerHost;
  issuerUrl: string;
  acquirerSecret: string;
  operatorToken: string;
  /** Where the pay server listens (loopback HTTP). */
  payUrl: string;
  connector: TamperingConnector;
  folder: string;
  /**
   * A signed-in payer with a bound device (FileKeyStore) and a PIN (unless `withPin` is false); `baseUrl` lets a
   * proxy sit in between.
   */
  newPayer(name: string, options?: { baseUrl?: string; withPin?: boolean; fetch?: typeof fetch }): Promise<BreachPayer>;
  /** Enrolls `card` through the wallet (the code from the simulator's inbox). */
  enroll(payer: BreachPayer, card: TestCardData): Promise<Card>;
  /** A merchant's payment awaiting approval (default merchant "Test Shop"). */
  newPayment(amount: number, merchant?: { secretKey: string }): Promise<string>;
  latestCode(phone: string): Promise<string>;
  /** The issuer's books for one payment, or null when it never received it. */
  issuerBooks(issuerId: string, paymentId: string): ReturnType<IssuerConnector["inquire"]>;
  /** The issuer's back-office view of a card (open-to-buy, holds). */
  backofficeCard(
    issuerId: string,
    cardRef: string,
  ): Promise<{ openToBuy: number; creditLimit: number; holds: Array<{ paymentId: string; amount: number }> }>;
  close(): Promise<void>;
}

/** Puts a device key into `store` as createDeviceKey would, keeping its private scalar `d` for the leak searches. */
export async function plantDeviceKey(store: KeyStore): Promise<string> {
  const keyPair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
  const { d } = await crypto.subtle.exportKey("jwk", keyPair.privateKey);
  await store.put(DEVICE_KEY_RECORD, { type: "keyPair", keyPair });
  if (typeof d !== "string") throw new Error("no private scalar");
  return d;
}

export async function openBreachNetwork(
  backend: Backend,
  options: {
    issuers?: string[];
    pay?: Partial<PayConfig>;
    issuerConfig?: Partial<IssuerHostConfig>;
    initKeys?: TestPayOptions["initKeys"];
  } = {},
): Promise<BreachNetwork> {
  const database = await freshDatabase(backend, "issuer_test");
  const folder = await mkdtemp(join(tmpdir(), "mpay-breach-"));
  const acquirerSecret = randomBytes(32).toString("base64url");
  const operatorToken = randomBytes(32).toString("base64url");
  let pay: TestPay | undefined;
  const base = loadIssuerConfig({});
  const wanted = options.issuers ?? ["sampo", "kstar"];
  const issuer = await startIssuerHost(
    {
      ...base,
      port: 0,
      databaseUrl: database.url,
      dataDir: join(folder, "issuer"),
      persistentEmbeddedDatabases: false,
      dbPoolSize: 2,
      ...fixtureHostConfig(wanted),
      acquirerSecret: new Secret(acquirerSecret),
      operatorToken: new Secret(operatorToken),
      testInbox: true,
      ...options.issuerConfig,
    },
    pino({ level: "silent" }),
  );
  const connector = new TamperingConnector(
    new SimulatorConnector({ baseUrl: issuer.url, acquirerSecret, timeoutMs: 10_000 }),
  );
  try {
    // The messenger is never reached here: a closed port, so that no other program on 4200 is ever asked.
    const messenger = {
      issuer: "http://127.0.0.1:9",
      clientId: "mpay-pay",
      clientSecret: "unused-unused-unused-unused-unused",
      clientSecretFile: join(folder, "none.json"),
    };
    pay = await openTestPay(
      backend,
      {
        messenger,
        ...options.pay,
        issuers: { url: issuer.url, acquirerSecret, acquirerSecretFile: join(folder, "none.json"), timeoutMs: 10_000 },
      },
      { issuerConnector: connector, initKeys: options.initKeys },
    );
    await certifyStatementKey(pay.system, await testRootSigner());
  } catch (error) {
    await issuer.stop();
    await database.drop();
    throw error;
  }
  const opened = pay;
  const payUrl = await opened.app.listen({ host: "127.0.0.1", port: 0 });
  const latestCode = async (phone: string) => {
    const inbox = (await (await fetch(`${issuer.url}/test-inbox?phone=${encodeURIComponent(phone)}`)).json()) as {
      messages: Array<{ code: string }>;
    };
    const code = inbox.messages[0]?.code;
    if (!code) throw new Error(`no code was sent to ${phone}`);
    return code;
  };
  let payers = 0;
  return {
    pay: opened,
    issuer,
    issuerUrl: issuer.url,
    acquirerSecret,
    operatorToken,
    payUrl,
    connector,
    folder,
    latestCode,
    async newPayer(name, { baseUrl = payUrl, withPin = true, fetch: clientFetch } = {}) {
      const session = await opened.system.payers.openSession({
        subject: `acct_breach_${++payers}_${randomBytes(4).toString("hex")}`,
        displayName: name,
        phoneNumber: null,
      });
      const sessionToken = session.sessionToken.peek();
      const client = new PayClient({ baseUrl, sessionToken, ...(clientFetch ? { fetch: clientFetch } : {}) });
      const storePath = join(folder, "devices", `${session.payer.id}.json`);
      const deviceSecret = FileKeyStore.newDeviceSecret();
      const keyStore = new FileKeyStore(storePath, deviceSecret);
      const deviceKeyD = await plantDeviceKey(keyStore);
      const wallet = new Wallet({
        trustedRoots: TEST_NETWORK_ROOTS,
        keyStore,
        client,
        keyStretching: "memory-constrained",
      });
      await wallet.bindThisDevice(`${name}'s phone`);
      if (withPin) await wallet.setPin(PIN);
      return { wallet, client, payerId: session.payer.id, sessionToken, storePath, deviceSecret, deviceKeyD };
    },
    async enroll(payer, card) {
      const pending = await payer.wallet.startCardEnrollment({
        pan: card.pan,
        expiry: card.expiry,
        cvc: card.cvc,
        holderName: "KIM MINJI",
      });
      return pending.complete(await latestCode(card.phone));
    },
    async newPayment(amount, merchant = opened.merchant) {
      const created = await call<{ id: string }>(
        opened.app,
        "POST",
        "/v1/payments",
        merchant.secretKey,
        paymentBody({ amount }),
      );
      if (created.status !== 200) throw new Error(`payment not created: ${created.raw}`);
      return created.body.id;
    },
    issuerBooks: (issuerId, paymentId) => connector.inquire(issuerId, paymentId),
    async backofficeCard(issuerId, cardRef) {
      const response = await fetch(
        `${issuer.url}/issuers/${issuerId}/backoffice/cards/${encodeURIComponent(cardRef)}`,
        { headers: { authorization: `Bearer ${operatorToken}` } },
      );
      if (!response.ok) throw new Error(`back office: ${response.status} ${await response.text()}`);
      return (await response.json()) as {
        openToBuy: number;
        creditLimit: number;
        holds: Array<{ paymentId: string; amount: number }>;
      };
    },
    async close() {
      await opened.close();
      await issuer.stop();
      await database.drop();
      await rm(folder, { recursive: true, force: true });
    },
  };
}
