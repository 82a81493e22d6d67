/**
 * Drill (c) of issue 7: a hostile pay server that holds the committed test network's root keys (anyone can: they
 * are in services/issuer/fixtures/network/). It runs an issuer host of its own with certificates it minted under
 * test root A for keys it holds, over every BIN, and repoints itself at it, so GET /v1/payer/issuers serves them.
 * Real processes over real HTTP: the pay server, the genuine issuer host and the attacker's, each its own process.
 *
 * - Hole 2 (the wallet trusts roots whose private keys are public): a wallet configured as production builds are —
 *   the demo wallet (scripts/demo), trusting only the root `npm start`'s network step made, which the attacker does
 *   not hold — refuses the minted issuers: it enrolls no card and builds no payment JWE, so nothing it sends can be
 *   opened with the attacker's keys, and no PAN or CVC crosses the wire. The same attack on a wallet that trusts the
 *   test roots (the old default) hands the attacker the PAN and CVC: the attack is real. A wallet without roots
 *   does not start.
 * - Hole 6 (the issuer trusts whoever answers at its JWKS URL): the genuine issuer host is told to fetch the pay
 *   server's keys from a URL the attacker answers (ISSUER_PAY_JWKS_URL, the variable it used to read). PIN
 *   statements under the attacker's key — served there, certified by the test root, or under the pay server's own
 *   certificate — are declined and hold nothing; the URL is never asked. A key that the issuer's root certified is
 *   accepted, so the declines are the certificates' doing.
 */
import { randomBytes } from "node:crypto";
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import canonicalize from "canonicalize";
import {
  calculateJwkThumbprint,
  compactDecrypt,
  CompactSign,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  importJWK,
} from "jose";
import {
  signIssuerCertificate,
  signStatementKeyCertificate,
  verifyIssuerCertificate,
  type NetworkRoot,
} from "@mpay/crypto";
import {
  canonicalTerms,
  JOSE_TYPES,
  STATEMENT_KEY_CERTIFICATE_HEADER,
  type ApprovalTerms,
  type EcPublicJwk,
  type IssuerCertificate,
} from "@mpay/protocol";
import { isWalletError, paymentJwe, PayClient, Wallet, type Card } from "@mpay/wallet";
import { FileKeyStore } from "@mpay/wallet/node";
import { TEST_NETWORK_ROOTS } from "@mpay/testing/network-roots";
import { loadDemoConfig } from "../scripts/demo/config.ts";
import { demoWallet } from "../scripts/demo/payer.ts";
import { DEFAULT_ISSUERS } from "../services/issuer/src/definitions.ts";
import { cardVerificationKeyFile, TEST_ROOTS_FILE, testRootSigner } from "../services/issuer/src/testing/fixtures.ts";
import { termsHash } from "../services/pay/src/approvals/terms-hash.ts";
import { freshDatabase, systemBackends, type FreshDatabase } from "@mpay/service-kit/testing";
import { plantDeviceKey } from "./support/breach-network.ts";
import { api } from "./support/http.ts";
import { startIssuerProcess, type IssuerProcess } from "./support/issuer-process.ts";
import { freePorts } from "./support/messenger-process.ts";
import { startPayProcess, type PayProcess } from "./support/pay-process.ts";
import { createMerchant, openTestSystem, paymentBody } from "./support/pay-system.ts";
import { startRecordingProxy, type RecordingProxy } from "./support/recording-proxy.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const PIN = "582046";
/** The victim's cards: one enrolled while the network is honest, one it tries to add under the hostile server. */
const VICTIM_CARD = { pan: "4222000000000012", expiry: "12/31", cvc: "742", phone: "+821055520001" };
const VICTIM_NEW_CARD = { pan: "4111000000000016", expiry: "12/31", cvc: "806" };
/** The card of the control wallet (trusting the test roots), so no search for the victim's cards finds it. */
const CONTROL_CARD = { pan: "5222000000000027", expiry: "12/31", cvc: "491" };
const COMPACT_JWE = /[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/g;

const nowSeconds = () => Math.floor(Date.now() / 1000);

interface AttackerIssuers {
  env: Record<string, string>;
  /** The private keys the attacker's certificates name: whatever is encrypted to them, the attacker reads. */
  keys: CryptoKey[];
}

/** The attacker's issuer host material: for every default issuer id, a key of its own under a test-root certificate over every BIN. */
async function mintAttackerIssuers(dir: string): Promise<AttackerIssuers> {
  const root = await testRootSigner("test-root-a");
  const env: Record<string, string> = {
    ISSUER_IDS: DEFAULT_ISSUERS.map((i) => i.id).join(","),
    ISSUER_NETWORK_ROOTS_FILE: TEST_ROOTS_FILE,
  };
  const keys: CryptoKey[] = [];
  const now = nowSeconds();
  for (const issuer of DEFAULT_ISSUERS) {
    const { privateKey } = await generateKeyPair("ECDH-ES+A256KW", { crv: "P-256", extractable: true });
    const jwk = await exportJWK(privateKey);
    const publicJwk: EcPublicJwk = { kty: "EC", crv: "P-256", x: jwk.x!, y: jwk.y! };
    const certificate: IssuerCertificate = {
      issuerId: issuer.id,
      name: issuer.name,
      binRanges: [{ from: "000000", to: "999999" }],
      jwk: publicJwk,
      kid: await calculateJwkThumbprint(publicJwk),
      nbf: now - 3600,
      exp: now + 86400,
    };
    const folder = join(dir, issuer.id);
    await mkdir(folder, { recursive: true });
    await writeFile(
      join(folder, "certificate.jws"),
      await signIssuerCertificate(certificate, root.privateKey, root.kid),
    );
    await writeFile(join(folder, "encryption-key.private.jwk.json"), JSON.stringify(jwk));
    await copyFile(cardVerificationKeyFile(issuer.id), join(folder, "cvk.json"));
    const upper = issuer.id.toUpperCase();
    Object.assign(env, {
      [`ISSUER_${upper}_CERTIFICATE_FILE`]: join(folder, "certificate.jws"),
      [`ISSUER_${upper}_ENCRYPTION_KEY_FILE`]: join(folder, "encryption-key.private.jwk.json"),
      [`ISSUER_${upper}_CVK_FILE`]: join(folder, "cvk.json"),
    });
    keys.push((await importJWK(jwk, "ECDH-ES+A256KW")) as CryptoKey);
  }
  return { env, keys };
}

/** Every compact JWE in `bodies` that one of `keys` opens, with what it held. */
async function openedByAttacker(bodies: string[], keys: CryptoKey[]): Promise<string[]> {
  const opened: string[] = [];
  for (const jwe of new Set(bodies.flatMap((body) => body.match(COMPACT_JWE) ?? []))) {
    for (const key of keys) {
      const plaintext = await compactDecrypt(jwe, key).then(
        (result) => new TextDecoder().decode(result.plaintext),
        () => null,
      );
      if (plaintext !== null) opened.push(plaintext);
    }
  }
  return opened;
}

/** A JWKS the attacker answers at the URL the issuer host was told; it counts who asks. */
async function startJwksServer(
  jwk: EcPublicJwk & { kid: string },
): Promise<{ url: string; asked: string[]; close(): Promise<void> }> {
  const asked: string[] = [];
  const server: Server = createServer((request, response) => {
    asked.push(request.url ?? "/");
    response
      .writeHead(200, { "content-type": "application/json" })
      .end(JSON.stringify({ keys: [{ ...jwk, alg: "ES256", use: "sig" }] }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    asked,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail("expected a refusal"),
    (error: unknown) => error,
  );
}

describe.each(systemBackends())("drill (c): a hostile pay server holding the test root keys [%s]", (backend) => {
  let dir: string;
  let databases: FreshDatabase[] = [];
  let payEnv: Record<string, string>;
  let demoEnv: Record<string, string>;
  let acquirerSecret: string;
  let merchantKey: string;
  const sessions: string[] = [];
  let honest: IssuerProcess;
  let hostile: IssuerProcess;
  let pay: PayProcess | undefined;
  let payProxy: RecordingProxy;
  let honestLink: RecordingProxy;
  let hostileLink: RecordingProxy;
  let jwks: Awaited<ReturnType<typeof startJwksServer>>;
  let attackerIssuers: AttackerIssuers;
  let attackerStatementKey: { privateKey: CryptoKey; jwk: EcPublicJwk; kid: string };
  let victim: { wallet: Wallet; deviceKeyD: string; card: Card };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "mpay-drill-c-"));
    databases = await Promise.all([
      freshDatabase(backend),
      freshDatabase(backend, "issuer_test"),
      freshDatabase(backend, "issuer_test"),
    ]);
    const [payDb, honestDb, hostileDb] = databases as [FreshDatabase, FreshDatabase, FreshDatabase];
    acquirerSecret = randomBytes(32).toString("base64url");
    const [payPort] = (await freePorts(1)) as [number];
    payEnv = {
      MPAY_DATA_DIR: join(dir, "pay"),
      MPAY_ISSUER_ACQUIRER_SECRET: acquirerSecret,
      PAY_PORT: String(payPort),
      ...(payDb.url ? { DATABASE_URL: payDb.url } : {}),
    };
    const honestEnv = {
      ISSUER_DATA_DIR: join(dir, "issuer"),
      ISSUER_IDS: "kstar",
      ISSUER_ACQUIRER_SECRET: acquirerSecret,
      ...(honestDb.url ? { ISSUER_DATABASE_URL: honestDb.url } : {}),
    };
    demoEnv = { ...payEnv, ...honestEnv, MPAY_NETWORK_DIR: join(dir, "network") };

    // The network as `npm start` makes it: a demo root the attacker never holds certifies the genuine issuer and
    // the pay server's statement key.
    const network = await promisify(execFile)(process.execPath, ["--import", "tsx", "scripts/demo-network.ts"], {
      cwd: ROOT,
      env: { PATH: process.env["PATH"] ?? "", ...demoEnv },
    });
    expect(network.stdout).toMatch(/certified the pay server's PIN-statement key/);
    // A merchant and two payers' sessions (the messenger sign-in is tested elsewhere), before the server holds the folder.
    const system = await openTestSystem({ databaseUrl: payDb.url, dataDir: payEnv["MPAY_DATA_DIR"]! });
    try {
      merchantKey = (await createMerchant(system, "Seoul Linen Mall")).secretKey;
      for (const subject of ["acct_victim", "acct_control"])
        sessions.push(
          (await system.payers.openSession({ subject, displayName: subject, phoneNumber: null })).sessionToken.peek(),
        );
    } finally {
      await system.close();
    }

    const attacker = await generateKeyPair("ES256", { extractable: true });
    const { x, y } = await exportJWK(attacker.publicKey);
    const attackerJwk: EcPublicJwk = { kty: "EC", crv: "P-256", x: x!, y: y! };
    attackerStatementKey = {
      privateKey: attacker.privateKey as CryptoKey,
      jwk: attackerJwk,
      kid: await calculateJwkThumbprint(attackerJwk),
    };
    jwks = await startJwksServer({ ...attackerJwk, kid: attackerStatementKey.kid });
    attackerIssuers = await mintAttackerIssuers(join(dir, "attacker"));
    [honest, hostile] = await Promise.all([
      // Told to fetch the pay server's keys where the attacker answers: it must not care.
      startIssuerProcess({ ...honestEnv, ISSUER_PAY_JWKS_URL: jwks.url }),
      startIssuerProcess({
        ...attackerIssuers.env,
        ISSUER_DATA_DIR: join(dir, "attacker-host"),
        ISSUER_ACQUIRER_SECRET: acquirerSecret,
        ...(hostileDb.url ? { ISSUER_DATABASE_URL: hostileDb.url } : {}),
      }),
    ]);
    [honestLink, hostileLink] = await Promise.all([startRecordingProxy(honest.url), startRecordingProxy(hostile.url)]);
    pay = await startPayProcess({ ...payEnv, MPAY_ISSUER_URL: honestLink.url });
    payProxy = await startRecordingProxy(pay.url);
  });

  afterAll(async () => {
    await Promise.allSettled([payProxy?.close(), honestLink?.close(), hostileLink?.close(), jwks?.close()]);
    await Promise.allSettled([pay?.stop(), honest?.stop(), hostile?.stop()]);
    await Promise.allSettled(databases.map((d) => d.drop()));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const newPayment = async (amount: number) => {
    const answer = await api<{ id: string }>(
      pay!.url,
      "POST",
      "/v1/payments",
      merchantKey,
      paymentBody({ amount, orderId: `o-${randomBytes(4).toString("hex")}` }),
      { "idempotency-key": randomBytes(8).toString("hex") },
    );
    if (answer.status !== 200) throw new Error(`payment not created: ${answer.raw}`);
    return answer.body.id;
  };
  const client = (session: string) => new PayClient({ baseUrl: payProxy.url, sessionToken: session });

  it("while the network is honest, the production wallet enrolls and pays, and the issuer takes the certified PIN statement", async () => {
    const keyStore = new FileKeyStore(join(dir, "victim.json"), FileKeyStore.newDeviceSecret());
    const deviceKeyD = await plantDeviceKey(keyStore);
    const wallet = await demoWallet(loadDemoConfig(demoEnv), keyStore, client(sessions[0]!));
    await wallet.bindThisDevice("Victim's phone");
    await wallet.setPin(PIN);
    const pending = await wallet.startCardEnrollment(VICTIM_CARD);
    const card = await pending.complete(await honest.latestCode(VICTIM_CARD.phone));
    victim = { wallet, deviceKeyD, card };
    const { payment } = await wallet.approvePayment(await newPayment(23_000), {
      cardId: card.id,
      pin: PIN,
      confirm: async () => true,
    });
    expect(payment.status).toBe("authorized");
    const sent = honestLink.exchanges.find((e) => e.method === "POST" && e.url === "/issuers/kstar/authorizations");
    const statement = (JSON.parse(sent!.requestBody) as { authentication: { statement: string } }).authentication
      .statement;
    expect(typeof decodeProtectedHeader(statement)[STATEMENT_KEY_CERTIFICATE_HEADER]).toBe("string");
  });

  it("(hole 2) turned hostile, it gets nothing from the production wallet: no enrollment, no payment JWE, no PAN or CVC", {
    timeout: 180_000,
  }, async () => {
    // The attacker repoints its pay server at its own issuer host: /v1/payer/issuers now lists the minted certificates.
    await pay!.stop();
    pay = await startPayProcess({ ...payEnv, MPAY_ISSUER_URL: hostileLink.url }); // the same port: the wallet's proxy still reaches it
    const hostileSince = payProxy.exchanges.length;
    const listing = (await client(sessions[0]!).cards.issuers()).map((i) => i.certificate);
    const now = nowSeconds();
    for (const certificate of listing)
      await expect(
        verifyIssuerCertificate(certificate, TEST_NETWORK_ROOTS, now, VICTIM_NEW_CARD.pan),
      ).resolves.toMatchObject({ binRanges: [{ from: "000000", to: "999999" }] });

    // The victim's wallet, rebuilt on the same device against the hostile server, trusts the demo root alone.
    const keyStore = new FileKeyStore(join(dir, "victim.json"), FileKeyStore.newDeviceSecret());
    expect(
      () =>
        new Wallet({ keyStore, client: client(sessions[0]!) } as unknown as ConstructorParameters<typeof Wallet>[0]),
    ).toThrow(/trustedRoots/);
    const wallet = victim.wallet;
    const enrolling = await rejection(wallet.startCardEnrollment(VICTIM_NEW_CARD));
    expect(isWalletError(enrolling, "issuer_not_trusted"), String(enrolling)).toBe(true);
    const paying = await rejection(
      wallet.approvePayment(await newPayment(31_000), { cardId: victim.card.id, pin: PIN, confirm: async () => true }),
    );
    expect(isWalletError(paying, "issuer_not_trusted"), String(paying)).toBe(true);

    // Everything the attacker received: the wallet's traffic to its pay server, and what that server sent its issuers.
    const received = [...payProxy.bodies(hostileSince), ...hostileLink.bodies()];
    expect(
      payProxy.exchanges
        .slice(hostileSince)
        .filter(
          (e) => e.method === "POST" && /\/v1\/payer\/(cards\/enrollments|approvals\/[^/]+\/authorize)/.test(e.url),
        ),
    ).toEqual([]);
    expect(hostileLink.exchanges.filter((e) => e.method === "POST").map((e) => e.url)).toEqual([]);
    expect(await openedByAttacker(received, attackerIssuers.keys)).toEqual([]);
    for (const secret of [VICTIM_CARD.pan, VICTIM_NEW_CARD.pan, `"cvc"`, VICTIM_NEW_CARD.cvc + '"'])
      expect(received.join("\n")).not.toContain(secret);

    // The same attack on a wallet that trusts the committed test roots (the old default) reads the card.
    const mark = payProxy.exchanges.length;
    const naive = new Wallet({
      trustedRoots: TEST_NETWORK_ROOTS,
      keyStore: new FileKeyStore(join(dir, "naive.json"), FileKeyStore.newDeviceSecret()),
      client: client(sessions[1]!),
    });
    await naive.bindThisDevice("Naive phone");
    // The attacker's host may well refuse the enrollment afterwards: by then it has read the card.
    await naive.startCardEnrollment(CONTROL_CARD).catch(() => undefined);
    const opened = await openedByAttacker(payProxy.bodies(mark), attackerIssuers.keys);
    expect(opened.map((text) => JSON.parse(text) as { pan: string; cvc: string })).toEqual([
      expect.objectContaining({ pan: CONTROL_CARD.pan, cvc: CONTROL_CARD.cvc }),
    ]);
  });

  it("(hole 6) the issuer declines PIN statements under a key served from a substituted JWKS or certified by a root it does not trust", async () => {
    const issuers = (await (await fetch(`${honest.url}/issuers`)).json()) as Array<{ certificate: string }>;
    const roots = JSON.parse(await readFile(join(dir, "network", "demo-roots.json"), "utf8")) as NetworkRoot[];
    const kstar = await verifyIssuerCertificate(issuers[0]!.certificate, roots, nowSeconds());
    const { kid: deviceKid, publicJwk } = await victim.wallet.ensureDeviceKey();
    const device = (await importJWK({ ...publicJwk, d: victim.deviceKeyD }, "ES256")) as CryptoKey;
    const genuine = decodeProtectedHeader(
      (
        JSON.parse(honestLink.exchanges.find((e) => e.url === "/issuers/kstar/authorizations")!.requestBody) as {
          authentication: { statement: string };
        }
      ).authentication.statement,
    );
    const testRoot = await testRootSigner("test-root-a");
    const demoRoot = JSON.parse(await readFile(join(dir, "network", "demo-root.private.jwk.json"), "utf8")) as Record<
      string,
      string
    >;
    const now = nowSeconds();
    const certifiedBy = (signer: { kid: string; privateKey: CryptoKey }) =>
      signStatementKeyCertificate(
        {
          acquirerId: "mpay",
          jwk: attackerStatementKey.jwk,
          kid: attackerStatementKey.kid,
          nbf: now - 60,
          exp: now + 3600,
        },
        signer.privateKey,
        signer.kid,
      );

    /** A direct authorization request (the attacker holds the acquirer secret) for a fresh payment the device signed. */
    const authorize = async (header: (terms: ApprovalTerms) => Promise<Record<string, unknown>>) => {
      const iat = nowSeconds();
      const terms: ApprovalTerms = {
        aud: "kstar",
        cardRef: victim.card.cardRef,
        paymentId: `pay_drill_${randomBytes(6).toString("hex")}`,
        merchantId: "mch_drill",
        merchantName: "Seoul Linen Mall",
        amount: 44_000,
        currency: "KRW",
        captureMethod: "manual",
        nonce: randomBytes(16).toString("base64url"),
        iat,
        exp: iat + 240,
      };
      const payment = await paymentJwe(kstar, device, deviceKid, terms, {
        pan: VICTIM_CARD.pan,
        expiry: VICTIM_CARD.expiry,
      });
      const claims = {
        iss: "http://attacker.example",
        aud: "kstar",
        method: "pin",
        paymentId: terms.paymentId,
        challengeId: "apc_drill",
        termsHash: termsHash(canonicalTerms(terms)),
        deviceKid,
        iat,
        exp: terms.exp,
      };
      const statement = await new CompactSign(new TextEncoder().encode(canonicalize(claims)))
        .setProtectedHeader({ alg: "ES256", typ: JOSE_TYPES.pinStatement, ...(await header(terms)) })
        .sign(attackerStatementKey.privateKey);
      const { paymentId, merchantId, merchantName, amount, currency, captureMethod, cardRef } = terms;
      const response = await fetch(`${honest.url}/issuers/kstar/authorizations`, {
        method: "POST",
        headers: { authorization: `Bearer ${acquirerSecret}`, "content-type": "application/json" },
        body: JSON.stringify({
          paymentId,
          merchantId,
          merchantName,
          amount,
          currency,
          captureMethod,
          cardRef,
          payment,
          authentication: { method: "pin", statement },
        }),
      });
      return { paymentId, answer: (await response.json()) as { decision: string; declineCode?: string } };
    };

    const forged: Array<[string, () => Promise<Record<string, unknown>>]> = [
      ["the key the substituted JWKS serves, no certificate", async () => ({ kid: attackerStatementKey.kid })],
      [
        "the attacker's key, certified by the committed test root",
        async () => ({
          kid: attackerStatementKey.kid,
          [STATEMENT_KEY_CERTIFICATE_HEADER]: await certifiedBy(testRoot),
        }),
      ],
      [
        "the attacker's key under the pay server's own certificate",
        async () => ({
          kid: genuine["kid"],
          [STATEMENT_KEY_CERTIFICATE_HEADER]: genuine[STATEMENT_KEY_CERTIFICATE_HEADER],
        }),
      ],
    ];
    const declined: string[] = [];
    for (const [what, header] of forged) {
      const { paymentId, answer } = await authorize(header);
      expect(answer, what).toMatchObject({ decision: "declined", declineCode: "authentication_failed" });
      declined.push(paymentId);
    }
    expect(jwks.asked).toEqual([]);

    // The control: the attacker's key once the issuer's own root certified it is accepted.
    const root = {
      kid: roots[0]!.kid,
      privateKey: (await importJWK(
        { kty: "EC", crv: "P-256", x: demoRoot["x"], y: demoRoot["y"], d: demoRoot["d"] },
        "ES256",
      )) as CryptoKey,
    };
    const { paymentId: approvedId, answer } = await authorize(async () => ({
      kid: attackerStatementKey.kid,
      [STATEMENT_KEY_CERTIFICATE_HEADER]: await certifiedBy(root),
    }));
    expect(answer).toMatchObject({ decision: "approved" });
    const operator = (JSON.parse(await readFile(join(dir, "issuer", "operator.json"), "utf8")) as { token: string })
      .token;
    const card = (await (
      await fetch(`${honest.url}/issuers/kstar/backoffice/cards/${victim.card.cardRef}`, {
        headers: { authorization: `Bearer ${operator}` },
      })
    ).json()) as { holds: Array<{ paymentId: string }> };
    expect(card.holds.map((h) => h.paymentId).filter((id) => declined.includes(id) || id === approvedId)).toEqual([
      approvedId,
    ]);
  });
});
