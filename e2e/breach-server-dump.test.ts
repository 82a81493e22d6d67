/**
 * Breach drill (a) of issue 4: whoever takes the whole pay server — every table of its database, its
 * configuration, its logs and the KEK itself — learns no card (DESIGN.md "Split custody").
 *
 * The whole system runs as separate processes (messenger, issuer host, pay server), as wallet-journey does. Two
 * payers sign in through the messenger's login form and, with the wallet SDK, enroll a card each (with a personal
 * record) and pay; the merchant captures one payment. A recording proxy sits between the wallets and the pay
 * server. Then:
 * - the proxy saw no PAN (also grouped in fours), no CVC, no K_dev and no DEK pass, in any request or answer (K_dev
 *   read from each device's key store with the test's knowledge of its format, K_srv from the upload the proxy saw
 *   and checked against the row opened with the KEK, DEK = K_dev XOR K_srv);
 * - no stored column holds a PAN, a share or the DEK in clear, a CVC next to card data, or an opened record;
 * - an attacker process (support/breach-attacker.ts) given only files — the dump, the pay server's environment,
 *   its log output, the dev key file — tries every 32-byte value it can find or derive, with the pay server's own
 *   key-provider code, as K_dev and as the DEK, and XOR-combined in pairs, against every sealed record: it opens
 *   nothing. Given K_dev of one card as well (a control: server and device both stolen), the same attacker opens
 *   that card's records, so the search is real.
 *
 * PGlite: each process has its own data folder. PostgreSQL (DATABASE_URL set): a fresh database for each.
 */
import { execFile, fork } from "node:child_process";
import { copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { combineShares } from "@mpay/crypto";
import { PayClient, Wallet, type Card } from "@mpay/wallet";
import { FileKeyStore } from "@mpay/wallet/node";
import { signInWallet } from "@mpay/testing/messenger";
import { createAccount } from "../services/messenger/src/testing/rp.ts";
import { openDevKeyProvider } from "../services/pay/src/keys/dev/dev-provider.ts";
import { DEV_KEY_FILE_NAME } from "../services/pay/src/keys/index.ts";
import { freshDatabase, systemBackends, type FreshDatabase } from "../services/pay/src/testing/databases.ts";
import { kSrvAad } from "../services/pay/src/vault/aad.ts";
import type { AttackResult } from "./support/breach-attacker.ts";
import { plantDeviceKey } from "./support/breach-network.ts";
import { certifyPayStatementKey } from "./support/statement-key.ts";
import { cardShareOf, readDeviceStore } from "./support/device-store.ts";
import { api } from "./support/http.ts";
import { startIssuerProcess, type IssuerProcess } from "./support/issuer-process.ts";
import { freePorts, startMessengerProcess, type MessengerProcess } from "./support/messenger-process.ts";
import { startPayProcess, type PayProcess } from "./support/pay-process.ts";
import { paymentBody, SHOP_ORIGIN } from "./support/pay-system.ts";
import { startRecordingProxy, type RecordingProxy } from "./support/recording-proxy.ts";
import { dumpRows, type JsonRow } from "./support/row-dump.ts";
import { byteEncodings, cvcPatterns, findSecrets, panForms } from "./support/secret-search.ts";
import { dumpDatabase } from "./support/table-dump.ts";
import { TEST_NETWORK_ROOTS } from "@mpay/testing/network-roots";
import { fixtureIssuerEnv } from "../services/issuer/src/testing/fixtures.ts";

const MPAY_CLI = fileURLToPath(new URL("../scripts/mpay.mjs", import.meta.url));
const ATTACKER = fileURLToPath(new URL("./support/breach-attacker.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const PIN = "602915";
/** Two test cards of the simulator's `kstar` issuer that approve; their codes go to the phones on file. */
const CARDS = [
  {
    pan: "4222000000000012",
    expiry: "12/31",
    cvc: "742",
    phone: "+821055520001",
    holder: "HAN JISOO",
    profilePhone: "+821077001234",
    amount: 35000,
  },
  {
    pan: "5222000000000027",
    expiry: "12/31",
    cvc: "491",
    phone: "+821055520002",
    holder: "LEE MINHO",
    profilePhone: "+821077005678",
    amount: 12000,
  },
] as const;

interface Enrolled {
  card: Card;
  payerId: string;
  storePath: string;
  deviceSecret: Uint8Array;
  data: (typeof CARDS)[number];
  kDev: Uint8Array;
  /** As the proxy saw it uploaded (base64url). */
  kSrv: Uint8Array;
}

/** Runs the attacker process on `folder` (its only input) and returns what it reports. */
async function runAttacker(folder: string): Promise<AttackResult> {
  const child = fork(ATTACKER, [folder], {
    cwd: ROOT,
    execArgv: ["--import", "tsx"],
    env: { PATH: process.env["PATH"] ?? "" },
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  if (code !== 0) throw new Error(`the attacker process exited with ${code}:\n${stderr}`);
  return JSON.parse(stdout.trim().split("\n").at(-1) ?? "") as AttackResult;
}

describe.each(systemBackends())("breach drill (a): the whole pay server taken [%s]", (backend) => {
  let dir: string;
  let databases: FreshDatabase[] = [];
  let payDatabase: FreshDatabase;
  let messenger: MessengerProcess;
  let issuerHost: IssuerProcess;
  let pay: PayProcess;
  let proxy: RecordingProxy;
  let payEnv: Record<string, string>;
  let merchant: { id: string; secretKey: string };
  let callbackPrefix: string;
  let payUrl: string;
  const enrolled: Enrolled[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "mpay-e2e-breach-"));
    databases = await Promise.all([freshDatabase(backend), freshDatabase(backend), freshDatabase(backend)]);
    const [pays, messengers, issuers] = databases as [FreshDatabase, FreshDatabase, FreshDatabase];
    payDatabase = pays;
    const [messengerPort, payPort] = (await freePorts(2)) as [number, number];
    const acquirerSecret = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
    const clientSecret = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
    payUrl = `http://127.0.0.1:${payPort}`;
    callbackPrefix = `${payUrl}/v1/payer/auth/callback`;
    payEnv = {
      MPAY_DATA_DIR: join(dir, "pay"),
      MPAY_ISSUER_ACQUIRER_SECRET: acquirerSecret,
      ...(pays.url ? { DATABASE_URL: pays.url } : {}),
      // The most the server ever logs is what the attacker gets.
      LOG_LEVEL: "debug",
    };
    const [created, startedMessenger, startedIssuer] = await Promise.all([
      promisify(execFile)(
        process.execPath,
        [MPAY_CLI, "merchant", "create", "--name", "Seoul Linen Mall", "--origin", SHOP_ORIGIN, "--json"],
        { env: { PATH: process.env["PATH"] ?? "", ...payEnv } },
      ).then(async (created) => {
        await certifyPayStatementKey(payEnv);
        return created;
      }),
      startMessengerProcess({
        MESSENGER_PORT: String(messengerPort),
        MESSENGER_DATA_DIR: join(dir, "messenger"),
        ...(messengers.url ? { MESSENGER_DATABASE_URL: messengers.url } : {}),
        MESSENGER_PAY_CLIENT_SECRET: clientSecret,
        MESSENGER_PAY_REDIRECT_URIS: callbackPrefix,
      }),
      startIssuerProcess({
        ISSUER_DATA_DIR: join(dir, "issuer"),
        ...(issuers.url ? { ISSUER_DATABASE_URL: issuers.url } : {}),
        ...fixtureIssuerEnv(["kstar"]),
        ISSUER_ACQUIRER_SECRET: acquirerSecret,
      }),
    ]);
    messenger = startedMessenger;
    issuerHost = startedIssuer;
    merchant = JSON.parse(created.stdout.trim().split("\n").at(-1) ?? "") as { id: string; secretKey: string };
    payEnv = {
      ...payEnv,
      PAY_PORT: String(payPort),
      MPAY_PUBLIC_URL: payUrl,
      MPAY_MESSENGER_ISSUER: messenger.url,
      MPAY_MESSENGER_CLIENT_SECRET: clientSecret,
      MPAY_ISSUER_URL: issuerHost.url,
    };
    pay = await startPayProcess(payEnv);
    proxy = await startRecordingProxy(pay.url);
  });

  afterAll(async () => {
    await proxy?.close();
    await Promise.allSettled([pay?.stop(), messenger?.stop(), issuerHost?.stop()]);
    await Promise.allSettled(databases.map((d) => d.drop()));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** A payer on a phone of their own: signed in through the messenger's login form, bound, with a PIN. */
  async function signedInWallet(
    name: string,
  ): Promise<{ wallet: Wallet; payerId: string; storePath: string; deviceSecret: Uint8Array }> {
    const account = await createAccount(messenger.url, name);
    const storePath = join(dir, "devices", `${name.replaceAll(" ", "-")}.json`);
    const deviceSecret = FileKeyStore.newDeviceSecret();
    const keyStore = new FileKeyStore(storePath, deviceSecret);
    await plantDeviceKey(keyStore);
    const wallet = new Wallet({
      trustedRoots: TEST_NETWORK_ROOTS,
      keyStore,
      client: new PayClient({ baseUrl: proxy.url }),
      keyStretching: "memory-constrained",
    });
    const session = await signInWallet(wallet, account, payUrl);
    await wallet.bindThisDevice(`${name}'s phone`);
    await wallet.setPin(PIN);
    return { wallet, payerId: session.payer.id, storePath, deviceSecret };
  }

  it("enrolls and pays through a recording proxy that sees no PAN, CVC, K_dev or DEK pass", async () => {
    for (const [i, data] of CARDS.entries()) {
      const { wallet, payerId, storePath, deviceSecret } = await signedInWallet(i === 0 ? "Han Jisoo" : "Lee Minho");
      const pending = await wallet.startCardEnrollment(
        { pan: data.pan, expiry: data.expiry, cvc: data.cvc, holderName: data.holder },
        { profile: { name: data.holder, phone: data.profilePhone } },
      );
      const card = await pending.complete(await issuerHost.latestCode(data.phone));
      const created = await api<{ id: string }>(
        pay.url,
        "POST",
        "/v1/payments",
        merchant.secretKey,
        paymentBody({ amount: data.amount, orderId: `breach-${i}` }),
        { "idempotency-key": `breach-${backend}-${i}` },
      );
      const { payment } = await wallet.approvePayment(created.body.id, {
        cardId: card.id,
        pin: PIN,
        confirm: async () => true,
      });
      expect(payment.status).toBe("authorized");
      if (i === 0)
        expect(
          (
            await api<{ status: string }>(
              pay.url,
              "POST",
              `/v1/payments/${created.body.id}/capture`,
              merchant.secretKey,
              {},
              { "idempotency-key": `capture-${backend}` },
            )
          ).body.status,
        ).toBe("captured");

      const upload = proxy.exchanges.find((e) => e.method === "POST" && e.url === `/v1/payer/cards/${card.id}/records`);
      const kSrv = new Uint8Array(Buffer.from((JSON.parse(upload!.requestBody) as { kSrv: string }).kSrv, "base64url"));
      const kDev = await cardShareOf((await readDeviceStore(storePath, deviceSecret)).records, card.id);
      enrolled.push({ card, payerId, storePath, deviceSecret, data, kDev, kSrv });
    }

    const places = proxy.exchanges.flatMap((e, i) => [
      { where: `#${i} ${e.method} ${e.url.split("?")[0]} request`, text: e.requestBody },
      { where: `#${i} ${e.method} ${e.url.split("?")[0]} answer`, text: e.responseBody },
    ]);
    // The proxy saw the journey: the enrollment JWEs, the uploads of K_srv (by design), the releases.
    expect(proxy.exchanges.filter((e) => e.url === "/v1/payer/cards/enrollments")).toHaveLength(2);
    expect(
      proxy.exchanges.filter((e) => /\/approve$/.test(e.url) && e.responseBody.includes('"release"')),
    ).toHaveLength(2);
    for (const { kSrv } of enrolled)
      expect(places.some((p) => p.text.includes(Buffer.from(kSrv).toString("base64url")))).toBe(true);

    const secrets = enrolled.flatMap(({ data, kDev, kSrv }) => [
      { what: `PAN ${data.pan.slice(-4)}`, needles: panForms(data.pan) },
      { what: `CVC of ${data.pan.slice(-4)}`, needles: cvcPatterns(data.cvc) },
      { what: `K_dev of ${data.pan.slice(-4)}`, needles: byteEncodings(kDev) },
      { what: `DEK of ${data.pan.slice(-4)}`, needles: byteEncodings(combineShares(kDev, kSrv)) },
    ]);
    expect(findSecrets(places, secrets)).toEqual([]);
  });

  describe("after the pay server is stopped and taken", () => {
    let rows: JsonRow[];
    const attackerFolder = () => join(dir, "attacker");

    beforeAll(async () => {
      await Promise.all([pay.stop(), messenger.stop(), issuerHost.stop()]);
      const at = payDatabase.url ? { url: payDatabase.url } : { pgliteDir: join(dir, "pay", "db") };
      rows = await dumpRows(at);
      // What the attacker takes: files only.
      await mkdir(attackerFolder(), { recursive: true });
      await writeFile(join(attackerFolder(), "dump.json"), JSON.stringify(rows));
      await writeFile(join(attackerFolder(), "env.json"), JSON.stringify(payEnv, null, 2));
      await writeFile(join(attackerFolder(), "pay-server.log"), pay.output());
      await copyFile(join(dir, "pay", DEV_KEY_FILE_NAME), join(attackerFolder(), DEV_KEY_FILE_NAME));
    });

    it("stores no PAN, no share or DEK in clear, no CVC next to card data and no opened record in any column", async () => {
      expect(enrolled).toHaveLength(2);
      const text = await dumpDatabase(
        payDatabase.url ? { url: payDatabase.url } : { pgliteDir: join(dir, "pay", "db") },
      );
      const places = text.map((r) => ({ where: r.table, text: r.text }));
      // The dump holds the vault: both cards' sealed records and wrapped K_srv are there.
      const cards = rows.filter((r) => r.table === "public.cards");
      expect(
        cards
          .map((r) => [
            r.row["id"],
            String(r.row["sealed_card"]).slice(0, 3),
            String(r.row["wrapped_k_srv"]).slice(0, 4),
          ])
          .sort(),
      ).toEqual(enrolled.map((e) => [e.card.id, "r1.", "mk1."]).sort());

      // The test's own check of K_srv: the row opened with the KEK is what the proxy saw uploaded.
      const keys = await openDevKeyProvider({ keyFile: join(dir, "pay", DEV_KEY_FILE_NAME), log: () => undefined });
      try {
        for (const e of enrolled) {
          const row = cards.find((r) => r.row["id"] === e.card.id)!.row;
          const opened = await keys.open(
            "vault-k-srv",
            String(row["wrapped_k_srv"]),
            kSrvAad({ id: e.card.id, payerId: e.payerId, deviceId: e.card.deviceId }, Number(row["kek_version"])),
          );
          expect(Buffer.from(opened).equals(Buffer.from(e.kSrv))).toBe(true);
        }
      } finally {
        await keys.close();
      }

      const secrets = enrolled.flatMap(({ data, kDev, kSrv }) => [
        { what: `PAN ${data.pan.slice(-4)}`, needles: panForms(data.pan) },
        { what: `CVC of ${data.pan.slice(-4)}`, needles: cvcPatterns(data.cvc) },
        { what: `K_srv in clear of ${data.pan.slice(-4)}`, needles: byteEncodings(kSrv) },
        { what: `K_dev of ${data.pan.slice(-4)}`, needles: byteEncodings(kDev) },
        { what: `DEK of ${data.pan.slice(-4)}`, needles: byteEncodings(combineShares(kDev, kSrv)) },
        { what: `opened records of ${data.pan.slice(-4)}`, needles: [data.holder, data.profilePhone] },
      ]);
      expect(findSecrets(places, secrets)).toEqual([]);
      // A CVC is three digits: beside the labelled and quoted forms above, it is looked for as a bare number only in
      // the rows that hold card data (a card's row, its enrollment, its audit entries), where it would be next to it.
      const cardRows = places.filter((p) =>
        enrolled.some((e) => p.text.includes(e.card.id) || p.text.includes(e.card.cardRef)),
      );
      expect(cardRows.length).toBeGreaterThanOrEqual(2);
      const bare = (cvc: string) => new RegExp(`(?<![0-9A-Za-z_.:+-])${cvc}(?![0-9A-Za-z_-])`);
      expect(
        cardRows.filter((p) =>
          enrolled.some((e) =>
            bare(e.data.cvc).test(p.text.replace(/\d{4}-\d{2}-\d{2}[ T][\d:.]+([+-]\d{2}(:\d{2})?)?/g, "")),
          ),
        ),
      ).toEqual([]);
    });

    it("an attacker process with the dump, the configuration, the logs and the KEK opens no sealed record", async () => {
      const result = await runAttacker(attackerFolder());
      // It had the material and used it: both K_srv unwrapped with the KEK, all four records tried.
      expect(result.files.sort()).toEqual([DEV_KEY_FILE_NAME, "dump.json", "env.json", "pay-server.log"].sort());
      expect(result.kSrvUnwrapped).toBe(2);
      expect(result.otherSecretsUnwrapped).toBeGreaterThan(0);
      expect(result.records).toBe(4);
      expect(result.candidates).toBeGreaterThan(10);
      expect(result.trials).toBeGreaterThan(result.candidates * result.candidates);
      expect(result.opened).toEqual([]);
    });

    it("the same attacker, given one card's K_dev too (server and device both taken), opens that card's records", async () => {
      const control = join(dir, "attacker-control");
      await mkdir(control, { recursive: true });
      for (const file of ["dump.json", "env.json", "pay-server.log", DEV_KEY_FILE_NAME])
        await copyFile(join(attackerFolder(), file), join(control, file));
      const [first] = enrolled;
      await writeFile(join(control, "stolen-device-share.txt"), Buffer.from(first!.kDev).toString("base64url"));
      const result = await runAttacker(control);
      expect(result.opened.map((o) => [o.cardId, o.purpose, o.fields]).sort()).toEqual([
        [first!.card.id, "card", ["expiry", "holderName", "pan"]],
        [first!.card.id, "profile", ["name", "phone"]],
      ]);
    });
  });
});
