/**
 * The whole system as separate processes for the custody drills (issue 7): the messenger (OpenID Connect provider
 * with its real login form), the issuer host and the pay server, each a process of its own on PGlite folders or
 * fresh PostgreSQL databases. The pay server and the issuer host read one file clock (`MPAY_TEST_CLOCK_FILE`,
 * `ISSUER_TEST_CLOCK_FILE`) that `advance` moves, so a drill lets a day pass in a moment; wallets take `now` for
 * the same time. The pay server runs its maintenance every 200 ms, so what falls due happens at once.
 */
import { execFile } from "node:child_process";
import { copyFile, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { randomBytes } from "node:crypto";
import { FileClock, setClockOffset } from "@mpay/service-kit";
import { freshDatabase, type Backend, type FreshDatabase } from "@mpay/service-kit/testing";
import { PayClient, Wallet, type PinKeyStretching } from "@mpay/wallet";
import { FileKeyStore } from "@mpay/wallet/node";
import { TEST_NETWORK_ROOTS } from "@mpay/testing/network-roots";
import { signInWallet } from "@mpay/testing/messenger";
import { createAccount, type TestAccount } from "../../services/messenger/src/testing/rp.ts";
import { api } from "./http.ts";
import { freePorts, startMessengerProcess, type MessengerProcess } from "./messenger-process.ts";
import { startPayProcess, type PayProcess } from "./pay-process.ts";
import { startIssuerProcess, type IssuerProcess } from "./issuer-process.ts";
import { paymentBody, SHOP_ORIGIN } from "./pay-system.ts";
import { fixtureIssuerEnv } from "../../services/issuer/src/testing/fixtures.ts";
import { certifyPayStatementKey } from "./statement-key.ts";

const MPAY_CLI = fileURLToPath(new URL("../../scripts/mpay.mjs", import.meta.url));
const keyStretching: PinKeyStretching = "memory-constrained";
/** Three processes start at once on two cores: give each more than the harness's default minute. */
const START_TIMEOUT_MS = 150_000;
export const WAITING_PERIOD_SECONDS = 86_400;

/** A wallet on one device, signed in; `storePath` and `deviceSecret` are what a thief of the device copies. */
export interface DeviceWallet {
  wallet: Wallet;
  storePath: string;
  deviceSecret: Uint8Array;
  /** The payer session this device signed in with (`pst_…`): the messenger session on the stolen phone yields it. */
  sessionToken: string;
}

export interface CustodyNetwork {
  payUrl: string;
  issuerUrl: string;
  merchant: { id: string; secretKey: string };
  acquirerSecret: string;
  /** The drill's time: the machine's plus every `advance` so far. */
  now(): Date;
  /** Moves the pay server's, the issuer's and the wallets' time forward. */
  advance(seconds: number): void;
  newAccount(name: string): Promise<TestAccount>;
  /** A new device of `account`'s holder, signed in to MPay through the messenger's login form. */
  newDevice(account: TestAccount, name: string): Promise<DeviceWallet>;
  /** A thief's wallet on a copy of `device`'s store (file and device secret), with the session on that phone. */
  stolen(device: DeviceWallet): Promise<Wallet>;
  latestCode(phone: string): Promise<string>;
  /** The kinds of the messages MPay sent to `account`'s messenger inbox, newest first (its own app session reads them). */
  inbox(account: TestAccount): Promise<string[]>;
  /** A merchant payment awaiting approval. */
  newPayment(amount: number): Promise<string>;
  /** The issuer's acquirer API, as only the pay server may call it (a drill checks what the issuer itself refuses). */
  issuerPost(path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }>;
  close(): Promise<void>;
}

export async function openCustodyNetwork(
  backend: Backend,
  options: { issuers?: string } = {},
): Promise<CustodyNetwork> {
  const dir = await mkdtemp(join(tmpdir(), "mpay-custody-"));
  const clockFile = join(dir, "clock");
  let offsetMs = 0;
  setClockOffset(clockFile, 0);
  const clock = new FileClock(clockFile);
  const databases: FreshDatabase[] = await Promise.all([
    freshDatabase(backend),
    freshDatabase(backend),
    freshDatabase(backend),
  ]);
  const [payDatabase, messengerDatabase, issuerDatabase] = databases as [FreshDatabase, FreshDatabase, FreshDatabase];
  const [messengerPort, payPort] = (await freePorts(2)) as [number, number];
  const acquirerSecret = randomBytes(32).toString("base64url");
  const clientSecret = randomBytes(32).toString("base64url");
  const payUrl = `http://127.0.0.1:${payPort}`;
  const messengerUrl = `http://127.0.0.1:${messengerPort}`;
  const callbackPrefix = `${payUrl}/v1/payer/auth/callback`;
  const payEnv: Record<string, string> = {
    MPAY_DATA_DIR: join(dir, "pay"),
    MPAY_ISSUER_ACQUIRER_SECRET: acquirerSecret,
    MPAY_TEST_CLOCK_FILE: clockFile,
    ...(payDatabase.url ? { DATABASE_URL: payDatabase.url } : {}),
  };
  const processes: Array<{ stop(): Promise<void> }> = [];
  const close = async () => {
    await Promise.allSettled(processes.map((p) => p.stop()));
    await Promise.allSettled(databases.map((d) => d.drop()));
    await rm(dir, { recursive: true, force: true, maxRetries: 5 });
  };
  try {
    // The operator makes the merchant with the CLI before the server holds the PGlite folder.
    const [created, messenger, issuer] = await Promise.all([
      // Then the test network certifies the server's PIN-statement key, as the operator installs it (docs/network.md).
      promisify(execFile)(
        process.execPath,
        [MPAY_CLI, "merchant", "create", "--name", "Custody Mall", "--origin", SHOP_ORIGIN, "--json"],
        {
          env: { PATH: process.env["PATH"] ?? "", ...payEnv },
        },
      ).then(async (made) => {
        await certifyPayStatementKey(payEnv);
        return made;
      }),
      startMessengerProcess(
        {
          MESSENGER_PORT: String(messengerPort),
          MESSENGER_DATA_DIR: join(dir, "messenger"),
          ...(messengerDatabase.url ? { MESSENGER_DATABASE_URL: messengerDatabase.url } : {}),
          MESSENGER_PAY_CLIENT_SECRET: clientSecret,
          MESSENGER_PAY_REDIRECT_URIS: callbackPrefix,
        },
        START_TIMEOUT_MS,
      ),
      startIssuerProcess(
        {
          ISSUER_DATA_DIR: join(dir, "issuer"),
          ...(issuerDatabase.url ? { ISSUER_DATABASE_URL: issuerDatabase.url } : {}),
          ...fixtureIssuerEnv((options.issuers ?? "sampo").split(",")),
          ISSUER_ACQUIRER_SECRET: acquirerSecret,
          ISSUER_TEST_CLOCK_FILE: clockFile,
        },
        START_TIMEOUT_MS,
      ),
    ]);
    processes.push(messenger, issuer);
    const merchant = JSON.parse(created.stdout.trim().split("\n").at(-1) ?? "") as { id: string; secretKey: string };
    const pay: PayProcess = await startPayProcess(
      {
        ...payEnv,
        PAY_PORT: String(payPort),
        MPAY_PUBLIC_URL: payUrl,
        MPAY_MESSENGER_ISSUER: messengerUrl,
        MPAY_MESSENGER_CLIENT_SECRET: clientSecret,
        MPAY_ISSUER_URL: issuer.url,
        MPAY_DEVICE_WAITING_PERIOD_SECONDS: String(WAITING_PERIOD_SECONDS),
        MPAY_EXPIRY_INTERVAL_MS: "200",
      },
      START_TIMEOUT_MS,
    );
    processes.push(pay);
    return network({
      dir,
      clock,
      messenger,
      issuer,
      pay,
      merchant,
      acquirerSecret,
      callbackPrefix,
      close,
      advance: (seconds) => setClockOffset(clockFile, (offsetMs += seconds * 1000)),
    });
  } catch (error) {
    // The cause, not a clean-up error, is what the drill must show.
    await close().catch(() => {});
    throw error;
  }
}

function network(p: {
  dir: string;
  clock: FileClock;
  messenger: MessengerProcess;
  issuer: IssuerProcess;
  pay: PayProcess;
  merchant: { id: string; secretKey: string };
  acquirerSecret: string;
  callbackPrefix: string;
  close(): Promise<void>;
  advance(seconds: number): void;
}): CustodyNetwork {
  let devices = 0;
  const inboxSessions = new Map<string, string>();
  const walletOn = (storePath: string, deviceSecret: Uint8Array, client: PayClient) =>
    new Wallet({
      trustedRoots: TEST_NETWORK_ROOTS,
      keyStore: new FileKeyStore(storePath, deviceSecret),
      client,
      keyStretching,
      now: p.clock.now,
    });
  return {
    payUrl: p.pay.url,
    issuerUrl: p.issuer.url,
    merchant: p.merchant,
    acquirerSecret: p.acquirerSecret,
    now: p.clock.now,
    advance: p.advance,
    newAccount: (name) => createAccount(p.messenger.url, name),
    async newDevice(account, name) {
      const storePath = join(p.dir, "devices", `${++devices}-${name.replace(/\W+/g, "-")}.json`);
      const deviceSecret = FileKeyStore.newDeviceSecret();
      const client = new PayClient({ baseUrl: p.pay.url });
      const wallet = walletOn(storePath, deviceSecret, client);
      // The payer at the messenger's real login form (the part no SDK can do), back through the pay server's
      // redirect to the wallet's landing page, whose code the wallet exchanges with its verifier.
      const session = await signInWallet(wallet, account, p.pay.url);
      return { wallet, storePath, deviceSecret, sessionToken: session.sessionToken.peek() };
    },
    async stolen(device) {
      const copy = join(p.dir, "thief", `${randomBytes(4).toString("hex")}.json`);
      await mkdir(dirname(copy), { recursive: true });
      await copyFile(device.storePath, copy);
      return walletOn(
        copy,
        device.deviceSecret.slice(),
        new PayClient({ baseUrl: p.pay.url, sessionToken: device.sessionToken }),
      );
    },
    latestCode: (phone) => p.issuer.latestCode(phone),
    async inbox(account) {
      // One messenger app session per account (signing in again on every poll would meet the sign-in limits).
      let sessionToken = inboxSessions.get(account.phoneNumber);
      if (!sessionToken) {
        const post = await fetch(`${p.messenger.url}/api/sessions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ phoneNumber: account.phoneNumber, password: account.password }),
        });
        if (post.status !== 201) throw new Error(`messenger sign-in answered ${post.status}`);
        sessionToken = ((await post.json()) as { sessionToken: string }).sessionToken;
        inboxSessions.set(account.phoneNumber, sessionToken);
      }
      const list = (await (
        await fetch(`${p.messenger.url}/api/messages?limit=100`, {
          headers: { authorization: `Bearer ${sessionToken}` },
        })
      ).json()) as { data: Array<{ kind: string }> };
      return list.data.map((m) => m.kind);
    },
    async newPayment(amount) {
      const created = await api<{ id: string }>(
        p.pay.url,
        "POST",
        "/v1/payments",
        p.merchant.secretKey,
        paymentBody({ amount }),
      );
      if (created.status !== 200) throw new Error(`payment not created: ${created.raw}`);
      return created.body.id;
    },
    async issuerPost(path, body) {
      const response = await fetch(`${p.issuer.url}${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${p.acquirerSecret}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    },
    close: p.close,
  };
}
