/**
 * The payer's journey across real processes (issue 3, first test bullet; issue 4, first test bullet): the
 * messenger (OpenID Connect provider, its real login form), the issuer host and the pay server each run as their
 * own process; the payer signs in through the login form, and from then on only the wallet SDK talks to the pay
 * server — sign-in (code + PKCE), first device, PIN over OPAQUE, a card enrolled at the issuer (the one-time code
 * from its test inbox), a merchant's payment approved and authorized by the issuer — then a second device that
 * cannot bind without the first one's word, waits, and is canceled from the first. At the end, every log line the
 * processes wrote and every stored row of the pay server's and messenger's databases are searched for the PIN, the
 * card number, its CVC and the devices' private keys, and hold none.
 *
 * PGlite: each process has its own data folder. PostgreSQL (DATABASE_URL set): a fresh database for each.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApprovalTerms } from "@mpay/protocol";
import {
  DEVICE_KEY_RECORD,
  isPayApiError,
  PayClient,
  signInCodeFrom,
  Wallet,
  type KeyStore,
  type PinKeyStretching,
} from "@mpay/wallet";
import { FileKeyStore } from "@mpay/wallet/node";
import { freshDatabase, systemBackends, type FreshDatabase } from "../services/pay/src/testing/databases.ts";
import { Browser, readForm } from "../services/messenger/src/testing/browser.ts";
import { walletLanding } from "@mpay/testing/messenger";
import { createAccount, type TestAccount } from "../services/messenger/src/testing/rp.ts";
import { api } from "./support/http.ts";
import { freePorts, startMessengerProcess, type MessengerProcess } from "./support/messenger-process.ts";
import { startPayProcess, type PayProcess } from "./support/pay-process.ts";
import { startIssuerProcess, type IssuerProcess } from "./support/issuer-process.ts";
import { certifyPayStatementKey } from "./support/statement-key.ts";
import { paymentBody, SHOP_ORIGIN } from "./support/pay-system.ts";
import { dumpDatabase, type DumpedRow } from "./support/table-dump.ts";
import { TEST_NETWORK_ROOTS } from "@mpay/testing/network-roots";
import { fixtureIssuerEnv } from "../services/issuer/src/testing/fixtures.ts";

const MPAY_CLI = fileURLToPath(new URL("../scripts/mpay.mjs", import.meta.url));
const keyStretching: PinKeyStretching = "memory-constrained";
/** Every process logs at debug: the most it ever writes is what is searched for secrets. */
const LOG_LEVEL = "debug";
const MERCHANT_NAME = "Seoul Linen Mall";
const PIN = "582947";
/** A test card of the simulator's `kstar` issuer that approves; its codes go to the phone on file. */
const CARD = { pan: "4222000000000012", expiry: "12/31", cvc: "742", phone: "+821055520001" };

/**
 * Puts a device key into `store` the way createDeviceKey does, but keeps a copy of the private scalar `d` for the
 * leak search. The file store keeps keys exported (encrypted) anyway and hands them back non-extractable, so the
 * wallet below works with exactly what it would have made itself; the library is not changed for the test.
 */
async function plantDeviceKey(store: KeyStore): Promise<string> {
  const keyPair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
  const { d } = await crypto.subtle.exportKey("jwk", keyPair.privateKey);
  await store.put(DEVICE_KEY_RECORD, { type: "keyPair", keyPair });
  if (typeof d !== "string") throw new Error("no private scalar");
  return d;
}

/** The encodings a leaked 32-byte key would most likely take in a log line or a row (`bytea` prints as hex). */
function keyEncodings(d: string): string[] {
  const bytes = Buffer.from(d, "base64url");
  const hex = bytes.toString("hex");
  return [d, bytes.toString("base64"), bytes.toString("base64").replace(/=+$/, ""), hex, hex.toUpperCase()];
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (error: unknown) => error,
  );
}

describe.each(systemBackends())(
  "the wallet's journey across the messenger and pay-server processes [%s]",
  (backend) => {
    let dir: string;
    let payDatabase: FreshDatabase;
    let messengerDatabase: FreshDatabase;
    let messenger: MessengerProcess;
    let pay: PayProcess;
    let issuerHost: IssuerProcess;
    let issuerDatabase: FreshDatabase;
    let cliOutput = "";
    let merchant: { id: string; secretKey: string };
    let account: TestAccount;
    let callbackPrefix: string;
    /** The private scalars of the device keys made in this journey. */
    const deviceSecrets: string[] = [];
    let phone: Wallet;
    let payerId: string;

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), "mpay-e2e-wallet-"));
      [payDatabase, messengerDatabase, issuerDatabase] = await Promise.all([
        freshDatabase(backend),
        freshDatabase(backend),
        freshDatabase(backend),
      ]);
      const [messengerPort, payPort] = (await freePorts(2)) as [number, number];
      const acquirerSecret = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
      const payUrl = `http://127.0.0.1:${payPort}`;
      const issuer = `http://127.0.0.1:${messengerPort}`;
      callbackPrefix = `${payUrl}/v1/payer/auth/callback`;
      const clientSecret = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
      const payEnv: Record<string, string> = {
        MPAY_DATA_DIR: join(dir, "pay"),
        MPAY_ISSUER_ACQUIRER_SECRET: acquirerSecret,
        ...(payDatabase.url ? { DATABASE_URL: payDatabase.url } : {}),
        LOG_LEVEL,
      };

      // The operator makes the merchant with the CLI (`mpay merchant create --json`) before the server holds the
      // PGlite folder; the messenger starts meanwhile.
      const [created, startedMessenger, startedIssuer] = await Promise.all([
        // Then the test network certifies the server's PIN-statement key, as the operator installs it (docs/network.md).
        promisify(execFile)(
          process.execPath,
          [MPAY_CLI, "merchant", "create", "--name", MERCHANT_NAME, "--origin", SHOP_ORIGIN, "--json"],
          {
            env: { PATH: process.env["PATH"] ?? "", ...payEnv },
          },
        ).then(async (created) => {
          await certifyPayStatementKey(payEnv);
          return created;
        }),
        startMessengerProcess({
          MESSENGER_PORT: String(messengerPort),
          MESSENGER_DATA_DIR: join(dir, "messenger"),
          ...(messengerDatabase.url ? { MESSENGER_DATABASE_URL: messengerDatabase.url } : {}),
          MESSENGER_PAY_CLIENT_SECRET: clientSecret,
          MESSENGER_PAY_REDIRECT_URIS: callbackPrefix,
          LOG_LEVEL,
        }),
        startIssuerProcess({
          ISSUER_DATA_DIR: join(dir, "issuer"),
          ...(issuerDatabase.url ? { ISSUER_DATABASE_URL: issuerDatabase.url } : {}),
          ...fixtureIssuerEnv(["kstar"]),
          ISSUER_ACQUIRER_SECRET: acquirerSecret,
          LOG_LEVEL,
        }),
      ]);
      issuerHost = startedIssuer;
      messenger = startedMessenger;
      cliOutput = created.stdout + created.stderr;
      merchant = JSON.parse(created.stdout.trim().split("\n").at(-1) ?? "") as { id: string; secretKey: string };
      expect(messenger.url).toBe(issuer);

      pay = await startPayProcess({
        ...payEnv,
        PAY_PORT: String(payPort),
        MPAY_PUBLIC_URL: payUrl,
        MPAY_MESSENGER_ISSUER: issuer,
        MPAY_MESSENGER_CLIENT_SECRET: clientSecret,
        MPAY_ISSUER_URL: issuerHost.url,
        MPAY_DEVICE_WAITING_PERIOD_SECONDS: "86400",
      });
      expect(pay.url).toBe(payUrl);
      account = await createAccount(messenger.url, "Han Jisoo");
    });

    afterAll(async () => {
      await Promise.allSettled([pay?.stop(), messenger?.stop(), issuerHost?.stop()]);
      await Promise.allSettled([payDatabase?.drop(), messengerDatabase?.drop(), issuerDatabase?.drop()]);
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    /** A wallet on a new device: a FileKeyStore of its own, with a device key whose `d` the test keeps. */
    async function newDevice(name: string): Promise<Wallet> {
      const keyStore = new FileKeyStore(join(dir, "devices", name, "keys.json"), FileKeyStore.newDeviceSecret());
      deviceSecrets.push(await plantDeviceKey(keyStore));
      return new Wallet({
        trustedRoots: TEST_NETWORK_ROOTS,
        keyStore,
        client: new PayClient({ baseUrl: pay.url }),
        keyStretching,
      });
    }

    /**
     * The payer at the messenger's real login form (the part no SDK can do), then the browser through the pay
     * server's callback: returns the wallet's landing URL (`<web>/wallet/signin?code=plc_…`).
     */
    async function logIn(authorizationUrl: string, options: { wrongPasswordFirst?: boolean } = {}): Promise<URL> {
      const browser = new Browser();
      const opened = await browser.open(authorizationUrl, callbackPrefix);
      let page = opened.page!;
      if (options.wrongPasswordFirst) {
        const wrong = await browser.submit(
          page,
          readForm(page.body, /\/login$/),
          { phone: account.phoneNumber, password: "not-the-password" },
          callbackPrefix,
        );
        expect(wrong.callback).toBeUndefined();
        expect(wrong.page?.status).toBe(401);
        page = wrong.page!;
      }
      const submitted = await browser.submit(
        page,
        readForm(page.body, /\/login$/),
        { phone: account.phoneNumber, password: account.password },
        callbackPrefix,
      );
      expect(submitted.callback, submitted.page?.body.slice(0, 300)).toBeDefined();
      return walletLanding(pay.url, submitted.callback!);
    }

    it("signs in through the login form, binds the first device, sets the PIN over OPAQUE, enrolls a card at the issuer and pays a merchant", async () => {
      phone = await newDevice("phone");
      const start = await phone.startSignIn();
      const authorization = new URL(start.authorizationUrl);
      expect(authorization.origin).toBe(messenger.url);
      expect(authorization.searchParams.get("code_challenge_method")).toBe("S256");
      expect(authorization.searchParams.get("redirect_uri")).toBe(callbackPrefix);

      const landing = await logIn(start.authorizationUrl, { wrongPasswordFirst: true });
      // The browser lands on the wallet with a one-time code, never a session token.
      expect(landing.pathname).toBe("/wallet/signin");
      expect(landing.href).not.toContain("pst_");
      const session = await phone.finishSignIn(landing, start.codeVerifier);
      expect(session.payer).toMatchObject({ displayName: "Han Jisoo", phoneNumber: account.phoneNumber });
      payerId = session.payer.id;
      // The code is spent: the same landing again signs no one in, even with the right verifier.
      expect(
        isPayApiError(
          await rejection(
            new PayClient({ baseUrl: pay.url }).sessions.exchange({
              code: signInCodeFrom(landing),
              codeVerifier: start.codeVerifier,
            }),
          ),
          "sign_in_invalid",
        ),
      ).toBe(true);

      const device = await phone.bindThisDevice("Jisoo's phone");
      expect(device).toMatchObject({
        status: "active",
        approvedBy: "first-sign-in",
        keyThumbprint: (await phone.ensureDeviceKey()).kid,
      });
      expect(await phone.setPin(PIN)).toMatchObject({ set: true, locked: false, triesLeft: 5 });
      expect(await phone.checkPin(PIN)).toBe(true);

      // The card: PAN, expiry and CVC go to the issuer only as a JWE; the issuer texts a code to the phone on file.
      const pending = await phone.startCardEnrollment({
        pan: CARD.pan,
        expiry: CARD.expiry,
        cvc: CARD.cvc,
        holderName: "HAN JISOO",
      });
      expect(pending).toMatchObject({ issuerId: "kstar", issuerName: "KStar Card" });
      const card = await pending.complete(await issuerHost.latestCode(CARD.phone));
      expect(card).toMatchObject({
        status: "active",
        issuerId: "kstar",
        brand: "visa",
        last4: "0012",
        expiryMonth: "2031-12",
      });

      // The merchant's server creates a payment over the merchant API.
      const created = await api<{ id: string; status: string }>(
        pay.url,
        "POST",
        "/v1/payments",
        merchant.secretKey,
        paymentBody({ amount: 35000, itemName: "Gift card, pay to Other Mall" }),
        {
          "idempotency-key": `journey-${backend}`,
        },
      );
      expect([created.status, created.body.status]).toEqual([200, "requires_approval"]);

      const shown: ApprovalTerms[] = [];
      const { approval, payment } = await phone.approvePayment(created.body.id, {
        pin: PIN,
        cardId: card.id,
        confirm: async (terms) => {
          shown.push({ ...terms });
          return terms.merchantName === MERCHANT_NAME && terms.amount === 35000 && terms.currency === "KRW";
        },
      });
      expect(approval).toMatchObject({ paymentId: created.body.id, method: "pin" });
      // The payer was shown the merchant's registered name, never the request's text.
      expect(shown).toHaveLength(1);
      expect(shown[0]).toMatchObject({
        merchantId: merchant.id,
        merchantName: MERCHANT_NAME,
        amount: 35000,
        currency: "KRW",
        paymentId: created.body.id,
        aud: "kstar",
        cardRef: card.cardRef,
      });
      expect(JSON.stringify(shown)).not.toContain("Other Mall");
      expect(payment).toMatchObject({ status: "authorized", declineCode: null });

      const read = await api<{ status: string }>(pay.url, "GET", `/v1/payments/${created.body.id}`, merchant.secretKey);
      expect(read.body.status).toBe("authorized");
    });

    it("a second device cannot bind on messenger sign-in alone; approved by the first with the PIN, it waits, and the PIN cancels it", async () => {
      const laptop = await newDevice("laptop");
      const laptopStart = await laptop.startSignIn();
      const session = await laptop.finishSignIn(await logIn(laptopStart.authorizationUrl), laptopStart.codeVerifier);
      expect(session.payer.id).toBe(payerId);

      const alone = await rejection(laptop.bindThisDevice("Jisoo's laptop"));
      expect(isPayApiError(alone, "device_approval_required")).toBe(true);

      const approval = await phone.approveNewDevice((await laptop.ensureDeviceKey()).kid);
      const pending = await laptop.bindThisDevice("Jisoo's laptop", { approval, pin: PIN });
      expect(pending.status).toBe("pending");
      expect(Date.parse(pending.activatesAt) - Date.now()).toBeGreaterThan(86_400_000 - 120_000);

      const seen = await phone.pendingChanges();
      expect(seen.map((c) => [c.id, c.deviceName, c.kind])).toEqual([[pending.id, "Jisoo's laptop", "device"]]);
      expect(await phone.cancelPendingChange(seen[0]!, PIN)).toEqual([]);
      expect((await laptop.thisDevice())?.status).toBe("canceled");
    });

    it("leaves the PIN, the card number, its CVC and the device keys in no log line of any process and no row of the pay server's or messenger's database", async () => {
      await Promise.all([pay.stop(), messenger.stop(), issuerHost.stop()]);
      const logs = [pay.output(), messenger.output(), issuerHost.output(), cliOutput].join("\n");
      const rows: DumpedRow[] = [
        ...(await dumpDatabase(payDatabase.url ? { url: payDatabase.url } : { pgliteDir: join(dir, "pay", "db") })).map(
          (r) => ({ ...r, table: `pay:${r.table}` }),
        ),
        ...(
          await dumpDatabase(
            messengerDatabase.url ? { url: messengerDatabase.url } : { pgliteDir: join(dir, "messenger", "db") },
          )
        ).map((r) => ({ ...r, table: `messenger:${r.table}` })),
      ];
      const places = [
        ...logs.split("\n").map((line, i) => ({ where: `log line ${i + 1}`, text: line })),
        ...rows.map((r) => ({ where: r.table, text: r.text })),
      ];

      // The search sees what it should: the requests were logged, and the stored rows hold the journey.
      expect(deviceSecrets).toHaveLength(2);
      expect(logs).toContain("/v1/payer/approval-challenges/");
      expect(rows.some((r) => r.table === "pay:public.payer_pins")).toBe(true);
      expect(rows.some((r) => r.table === "pay:public.payment_approvals" && r.text.includes(payerId))).toBe(true);

      // A PIN is six digits, so it is looked for where no digit touches it: inside a longer number (a timestamp,
      // a port) the same six digits are a coincidence, not a leak.
      const pin = new RegExp(`(?<![0-9])${PIN}(?![0-9])`);
      const pinHex = Buffer.from(PIN).toString("hex");
      const secrets = deviceSecrets.flatMap(keyEncodings);
      const cvc = new RegExp(`(?<![0-9])${CARD.cvc}(?![0-9])`);
      const leaks = places
        .filter(
          ({ text }) =>
            pin.test(text) ||
            text.includes(pinHex) ||
            secrets.some((secret) => text.includes(secret)) ||
            text.includes(account.password) ||
            text.includes(CARD.pan),
        )
        .map(({ where }) => where);
      // The CVC is three digits: looked for only in the logs (in rows, three digits appear everywhere by chance).
      expect(logs.split("\n").filter((line) => cvc.test(line) && /cvc|card/i.test(line))).toEqual([]);
      expect(leaks).toEqual([]);
    });
  },
);
